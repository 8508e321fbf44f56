#!/usr/bin/env python3
"""Writes a seed-shaped JSON file with N configs of the custom types, for
`authcfg import` (used by bench/run)."""
import json, sys

n = int(sys.argv[1])
kinds = [
    lambda i: {"type": "api_key", "name": f"svc/c{i:05d}", "config": {"api_key": f"key-{i:05d}-" + "x" * 32, "key_name": "X-API-Key", "location": "header"}},
    lambda i: {"type": "bearer_token", "name": f"svc/c{i:05d}", "config": {"token": f"tok-{i:05d}-" + "y" * 64}},
    lambda i: {"type": "basic_auth", "name": f"svc/c{i:05d}", "config": {"username": f"user{i}", "password": f"pw-{i:05d}-zzzzzzzz"}},
]
json.dump([kinds[i % 3](i) for i in range(n)], sys.stdout)
