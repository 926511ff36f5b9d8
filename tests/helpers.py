"""Hand-built articles and claims, for tests that need no model."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from schemas import Article, ArticleClaims, ClaimKind, ExtractedClaim, Extraction
from service.ingest import make_article


def article(text: str, source: str) -> Article:
    return make_article(text, f"{source}.txt", source)


def claims(item: Article, *specs: tuple[str, list[int]]) -> ArticleClaims:
    extracted = [
        ExtractedClaim(evidence=ids, kind=ClaimKind.FACT, text=text) for text, ids in specs
    ]
    extraction = Extraction(summary="A summary of the article.", claims=extracted)
    return ArticleClaims(article_id=item.id, extraction=extraction)


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that answers in one call and logs nothing."""

    def reply(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        return None


class _Server(ThreadingHTTPServer):
    request_queue_size = 256
    """Connections waiting to be accepted. The standard library's 5 made a burst of 64 calls
    find some connections reset (answered as 5xx, then retried), which no real model server's
    backlog does (uvicorn's is 2,048)."""


@contextmanager
def serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve ``handler`` on a free port of 127.0.0.1; yield its base URL."""
    httpd = _Server(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
