"""The PayPal certificate fetch over a real socket (the trust checks are unit-tested in
tests/unit/handlers/test_paypal_trust.py)."""

import http.server
import threading
import urllib.error

import pytest

from handlers import receiver


def test_the_certificate_fetcher_refuses_to_follow_a_redirect() -> None:
    """A redirect could leave PayPal's host after the URL check: the fetch fails, and the sender retries."""

    class Redirecting(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(302)
            self.send_header("Location", "/elsewhere.pem")
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Redirecting)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/cert.pem"
        with pytest.raises(urllib.error.HTTPError) as caught:
            receiver.fetch_certificate(url)
        assert caught.value.code == 302
    finally:
        server.shutdown()
        server.server_close()
