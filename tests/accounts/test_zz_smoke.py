from tests.conftest import PASSWORD

def test_smoke(client, make_organisation, make_user, make_space, login, outbox):
    org = make_organisation("Leeds Teaching Hospitals NHS Trust")
    for path in ["/", "/about", "/accessibility", "/register", "/login", "/confirm/resend", "/password/forgot", "/password/reset/xyz", "/confirm/bad"]:
        r = client.get(path)
        print(path, r.status_code)
    r = client.post("/register", data={"email": "new@nhs.net", "display_name": "Ann New", "job_title": "Director", "organisation_id": str(org.id), "password": "plum tractor wisely orbit"})
    print(r.status_code, r.get_data(as_text=True)[-3000:])
