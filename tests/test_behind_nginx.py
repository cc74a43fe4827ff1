"""Behind the nginx of `deploy/`, with the shipped production settings (gunicorn.conf.py, two
processes sharing PostgreSQL and Redis): rate limits count per real client address, and no
client can pick its own. Every address here is a loopback one (all of 127.0.0.0/8 is local)."""
import shutil
import ssl
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

import pytest

from community.demo import DEMO_PASSWORD

from .conftest import fresh_postgres_database, require_service
from .live_server import LiveServer, NginxServer, json_request

PEOPLE = {"127.0.0.2": "alice@acme.test", "127.0.0.3": "bob@globex.test", "127.0.0.4": "carla@initech.test"}
ATTACKER = "127.0.0.9"


@pytest.fixture(scope="module")
def site(request, redis_server, tmp_path_factory):
    require_service(shutil.which("nginx") is not None, "nginx (apt-get install nginx)")
    require_service(shutil.which("openssl") is not None, "openssl")
    logs = tmp_path_factory.mktemp("behind-nginx")
    env = {"DATABASE_URL": fresh_postgres_database(request.config, "nginx"), "REDIS_URL": redis_server.url,
           "SECRET_KEY": "behind-nginx-" + "k" * 32, "RATELIMIT_ENABLED": "true"}
    with ExitStack() as running:  # whatever started is stopped, by its own process, even on failure
        processes = [LiveServer(env, production=True, log_path=logs / f"app-{i}.log") for i in (1, 2)]
        processes[0].command("db", "upgrade")
        processes[0].command("seed-demo")
        for process in processes:
            running.callback(process.stop)
            process.start()
        nginx = NginxServer(logs, [process.port for process in processes])
        running.callback(nginx.stop)
        yield nginx.start()


def _login(site, source_address, email, password, forwarded_for=None):
    """An API sign-in over HTTPS through nginx, sent from `source_address`."""
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE  # the test's own certificate
    status, headers, payload = json_request(site, source_address, "POST", "/api/v1/auth/login",
                                            {"email": email, "password": password}, context=context, timeout=30,
                                            headers={"X-Forwarded-For": forwarded_for} if forwarded_for else None)
    return status, headers.get("Retry-After"), payload


def test_three_people_sign_in_at_once_while_a_flood_from_a_fourth_address_is_refused_alone(site):
    # The flood claims other addresses, one of them Alice's: nginx appends the one it saw, and
    # only that one counts.
    flood = [_login(site, ATTACKER, f"guess{i}@acme.test", "wrong", forwarded_for=f"127.0.0.2, 10.0.0.{i}")
             for i in range(12)]
    assert [status for status, _, _ in flood] == [401] * 10 + [429] * 2
    _, retry_after, body = flood[-1]
    assert int(retry_after) > 0 and body["error"]["code"] == "rate_limited"

    # Twelve sign-ins at once, four each from three addresses: more than one address may make
    # in a minute, so none would pass if the limit counted nginx's address.
    attempts = [(address, email) for address, email in PEOPLE.items() for _ in range(4)]
    with ThreadPoolExecutor(len(attempts)) as pool:
        answers = list(pool.map(lambda attempt: _login(site, *attempt, DEMO_PASSWORD), attempts))
    assert [status for status, _, _ in answers] == [200] * len(attempts), answers
    assert {body["user"]["email"] for _, _, body in answers} == set(PEOPLE.values())
    assert all(retry_after is None for _, retry_after, _ in answers)

    assert _login(site, ATTACKER, "alice@acme.test", DEMO_PASSWORD)[0] == 429  # still waiting, alone
