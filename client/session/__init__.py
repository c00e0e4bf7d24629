"""The exam session: what a candidate does from login to result, without Qt."""
