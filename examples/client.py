"""Ask a diplograph server from Python (pip install requests).

    diplograph serve                      # in another terminal: http://127.0.0.1:7878
    python3 examples/client.py            # reads
    DIPLOGRAPH_TOKEN=... python3 examples/client.py --write
"""
import os
import sys

import requests

BASE = os.environ.get("DIPLOGRAPH_URL", "http://127.0.0.1:7878")


def query(text, params=None, at_tx=None):
    """Rows of a read as dicts; raises with the server's message, line and column."""
    body = {"query": text, "params": params or {}}
    if at_tx is not None:
        body["at_tx"] = at_tx
    r = requests.post(f"{BASE}/query", json=body, timeout=60)
    answer = r.json()
    if r.status_code != 200:
        e = answer["error"]
        raise RuntimeError(f"{r.status_code} {e['kind']} at {e.get('line')}:{e.get('column')}: {e['message']}")
    return [dict(zip(answer["columns"], row)) for row in answer["rows"]], answer["pin"]


rows, pin = query(
    "MATCH (p:Actor)-[:PARTY_TO]->(a:Agreement) WHERE p.name IN $names "
    "RETURN p.name AS province, a.title AS agreement, a.stage AS stage ORDER BY province, agreement",
    {"names": ["Banten", "Yogyakarta", "Surabaya"]},
)
for row in rows:
    print(f"{row['province']:<11} {row['stage']:<12} {row['agreement']}")
print(f"cite: tx {pin['tx']}, sha256 {pin['sha256'][:16]}…")

if "--write" in sys.argv:
    token = os.environ["DIPLOGRAPH_TOKEN"]
    r = requests.post(
        f"{BASE}/transactions",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "statements": 'MATCH (b:Actor {id: "banten"}) '
            'MERGE (:Actor {id: "cilegon", name: "Cilegon", kind: "city"}) SOURCE "syuryansyah2024"',
            "author": "a notebook",
        },
        timeout=60,
    )
    print(r.status_code, r.json())
