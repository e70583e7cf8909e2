"""The help page members and moderators are pointed to."""


def test_the_help_page_explains_discussions_to_members_and_moderators(client):
    page = client.get("/help/discussions").get_data(as_text=True)
    for words in ("Starting a thread", "@[Aisha Khan]", "Mark all as read", "slow mode",
                  "patient-identifiable information", "Embedding improvement into management systems"):  # fmt: skip
        assert words in page
