"""flask-smorest pagination glue: page/page_size in, X-Pagination header out."""
from __future__ import annotations

from claims.paging import Page, PageRequest


def page_request(pagination_parameters) -> PageRequest:
    """Translate flask-smorest's pagination parameters into our PageRequest."""
    return PageRequest(page=pagination_parameters.page, page_size=pagination_parameters.page_size)


def respond_page(pagination_parameters, result: Page):
    """Tell flask-smorest the total for the X-Pagination header and return the items."""
    pagination_parameters.item_count = result.total
    return result.items
