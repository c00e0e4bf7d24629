"""e-01 (remote control) and e-02 (virtual devices) detection: collectors -> Snapshot ->
rules -> findings. Qt-free; the check screen and the in-exam overlay live in client/ui.
See docs/integrity.md."""
