import socket

from client.diagnostics import network


def test_plain_http_server_and_clock_offset(serve):
    url = serve()
    report = network.run_network_checks(server_url=url)
    assert report["dns"]["ok"] and report["tcp"]["ok"]
    assert "tls" not in report
    http = report["http_time"]
    assert http["ok"] and http["status"] == 200
    assert abs(http["local_clock_offset_s"]) < 2


def test_untrusted_certificate_is_explained(serve, make_cert):
    url = serve(cert=make_cert())
    tls = network.run_network_checks(server_url=url)["tls"]
    assert tls["ok"] is False and tls["classification"] == "untrusted"
    assert tls["certificate"]["subject"] == "CN=exam-server.test"
    assert tls["local_clock_inside_validity"] is True


def test_not_yet_valid_certificate_points_at_the_clock(serve, make_cert):
    cert = make_cert(not_before_offset_days=365)
    url = serve(cert=cert)
    tls = network.run_network_checks(server_url=url, cafile=str(cert[0]))["tls"]
    assert tls["ok"] is False and tls["classification"] == "clock"
    assert "not yet valid" in tls["error"]
    assert tls["local_clock_inside_validity"] is False


def test_trusted_https_passes_every_step(serve, make_cert):
    cert = make_cert()
    url = serve(cert=cert)
    report = network.run_network_checks(server_url=url, cafile=str(cert[0]))
    assert report["tls"]["ok"] and report["tls"]["version"].startswith("TLS")
    assert report["http_time"]["ok"]


def test_closed_port_stops_at_tcp():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    report = network.run_network_checks(server_url=f"http://127.0.0.1:{port}", timeout_s=2)
    assert report["tcp"]["ok"] is False and "http_time" not in report


def test_classification_of_the_field_messages():
    assert network.classify_tls_error("certificate is not yet valid") == "clock"
    assert network.classify_tls_error("unable to get local issuer certificate") == "missing_root"
    assert network.classify_tls_error("unable to verify the first certificate") == "missing_root"
