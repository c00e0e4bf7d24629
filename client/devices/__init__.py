"""Device facts shared by the camera module and the integrity checks (Qt-free, plain data)."""
