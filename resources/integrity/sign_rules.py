"""Sign an integrity rules file with the vendor rules key (or an exam server key).

    EXAM_CLIENT_RULES_SIGNING_KEY=/secure/path/key.pem \
        python resources/integrity/sign_rules.py [RULES_JSON]     # writes RULES_JSON.sig
    python resources/integrity/sign_rules.py --generate /secure/path/key.pem

The private key is a PKCS#8 PEM Ed25519 key that must never be committed; see README.md
beside this script. The rules are parsed with the client's own parser before signing, so
a malformed file is never signed.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a source tree

from client.integrity.rules import parse_rules, sign_rules

KEY_ENV = "EXAM_CLIENT_RULES_SIGNING_KEY"
DEFAULT_RULES = Path(__file__).resolve().parent / "rules.json"


def _public_b64(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def generate(path: Path) -> int:
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # never overwrite a key
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    print(f"private key written to {path}")
    print(f"public key (VENDOR_RULES_PUBLIC_KEY_B64 in client/integrity/rules.py): "
          f"{_public_b64(key)}")
    return 0


def sign(rules_path: Path, out_path: Path) -> int:
    key_path = os.environ.get(KEY_ENV)
    if not key_path:
        print(f"set {KEY_ENV} to the path of the private key (PEM)", file=sys.stderr)
        return 2
    key = serialization.load_pem_private_key(Path(key_path).read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        print(f"{key_path} is not an Ed25519 private key", file=sys.stderr)
        return 2
    data = rules_path.read_bytes()
    rules = parse_rules(json.loads(data.decode("utf-8")))
    out_path.write_bytes(sign_rules(data, key=key))
    print(f"signed {rules_path} (version {rules.version}, expires {rules.expires_at:%Y-%m-%d}) "
          f"with public key {_public_b64(key)} -> {out_path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("rules", nargs="?", type=Path, default=DEFAULT_RULES)
    parser.add_argument("--out", type=Path, help="signature file (default: RULES.sig)")
    parser.add_argument("--generate", type=Path, metavar="KEY_PEM",
                        help="create a new private key at KEY_PEM and print its public key")
    args = parser.parse_args(argv)
    if args.generate:
        return generate(args.generate)
    out = args.out or args.rules.with_name(args.rules.name + ".sig")
    return sign(args.rules, out)


if __name__ == "__main__":
    raise SystemExit(main())
