"""The header cell of a sortable column: ``{% sort_header sort "name" _("Name") %}``.

It links to the list sorted by that column (the other way round when it is already), keeps the filters and
starts again from the first page; ``aria-sort`` tells assistive technology the current order.
"""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from lamp.listing import SORT_PARAMETER, Sort

register = template.Library()

#: Parameters of a page's position, dropped when the order changes: the first page of the new order.
_POSITION = ("cursor", "page")


@register.simple_tag(takes_context=True)
def sort_header(
    context: template.Context, sort: Sort, key: str, label: str, css: str = "", first: str = "asc"
) -> SafeString:
    """``<th>`` of column ``key``: a link that sorts by it (``first`` says which way a first click goes:
    ``asc``, or ``desc`` for dates and amounts, newest or largest first)."""
    current = sort.key == key
    if current:
        target = key if sort.descending else f"-{key}"
        state = "descending" if sort.descending else "ascending"
    else:
        target = f"-{key}" if first == "desc" else key
        state = "none"
    params = context["request"].GET.copy()
    for name in _POSITION:
        params.pop(name, None)
    params[SORT_PARAMETER] = target
    going = _("descending") if target.startswith("-") else _("ascending")
    mark = ("▼" if sort.descending else "▲") if current else "↕"
    return format_html(
        '<th scope="col" class="sortable {}" aria-sort="{}"><a href="?{}" title="{}">{}<span class="sort-mark"'
        ' aria-hidden="true">{}</span></a></th>',
        css,
        state,
        params.urlencode(),
        _("Sort by %(column)s, %(direction)s") % {"column": label, "direction": going},
        label,
        mark,
    )
