"""Diagnostics for technical support (Qt-free): one zip with logs, crash logs, render
history, versions, OS, GPU/GL strings, an integrity snapshot, network and TLS tests and the
configuration with secrets removed. Never answers, photos or keys.

``exam-client diagnostics`` and the proctor-mode button both call
client.diagnostics.bundle.run_diagnostics().
"""
