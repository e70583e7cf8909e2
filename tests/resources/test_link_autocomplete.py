"""A resource's web address is the address of what is shared, not the sharer's own homepage
(autocomplete's ``url`` purpose, WCAG 1.3.5), so browsers are not asked to fill it in from
theirs."""

import re


def _link_box(page: str) -> str:
    return re.search(r'<input[^>]* name="link_url"[^>]*>', page).group(0)


def test_the_link_box_asks_browsers_not_to_fill_in_the_sharers_own_address(
    client, signed_in, qms, make_resource, uploader
):
    new = client.get(f"/spaces/{qms.slug}/library/new").get_data(as_text=True)
    resource = make_resource(qms, by=uploader)
    edit = client.get(f"/resources/{resource.id}/edit").get_data(as_text=True)
    for page in (new, edit):
        box = _link_box(page)
        assert 'autocomplete="off"' in box and 'autocomplete="url"' not in box
