"""The report as a PDF for the customer's file (issue 24 item 5), rendered by WeasyPrint.

WeasyPrint (package index, pinned in requirements.txt) lays HTML and CSS out for print with Pango
(Debian's libpango, installed by bin/setup): the same self-contained page, its inline SVG picture and
its @page margins, so the PDF is the page a browser prints. It fetches nothing: the page has no
external resources and a URL fetcher that refuses every URL makes sure of it.
"""
from __future__ import annotations


class PdfUnavailable(RuntimeError):
    """WeasyPrint or its system libraries are missing; the message says how to install them."""


def _no_fetch(url: str, *args, **kwargs):
    raise ValueError(f"the report fetches nothing ({url})")


def write_pdf(html_text: str, path: str) -> None:
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as exc:  # OSError: the Pango libraries are missing
        fix = "run bin/setup, or pip install weasyprint and apt-get install libpango-1.0-0 libpangoft2-1.0-0"
        raise PdfUnavailable(f"cannot write a PDF ({str(exc).splitlines()[0]}): {fix}") from None
    HTML(string=html_text, url_fetcher=_no_fetch).write_pdf(path)
