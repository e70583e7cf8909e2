from tests.discussions.test_query_counts import authors, reader, statements_for  # noqa
from tests.discussions import test_query_counts as q

def test_dump(client, sig, reader, authors):
    large = q._thread_with_posts(sig, authors, 10)
    html = client.get(f"/threads/{large.id}").get_data(as_text=True)
    open("/tmp/page.html", "w").write(html)
