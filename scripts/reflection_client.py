#!/usr/bin/env python3
"""Calls idforensics' Analyze with nothing but server reflection: no .proto files, no generated code.

Shows that any gRPC client works from reflection alone.

    pip install grpc-requests
    python3 scripts/reflection_client.py 127.0.0.1:50051 IMAGE [ACCOUNT_ID DOCUMENT_ID]
        [--token TOKEN] [--ca-cert server-ca.pem]

With ACCOUNT_ID and DOCUMENT_ID the document is registered for that account. --token sends
`authorization: Bearer TOKEN` (needed when the server has tokens; IDF_TOKEN works too); --ca-cert
speaks TLS to a server whose certificate that CA signed.
"""

import argparse
import base64
import json
import os
import sys

from grpc_requests import Client


def main() -> int:
    parser = argparse.ArgumentParser(usage=__doc__)
    parser.add_argument("address")
    parser.add_argument("image")
    parser.add_argument("ids", nargs="*", metavar="ACCOUNT_ID DOCUMENT_ID")
    parser.add_argument("--token", default=os.environ.get("IDF_TOKEN"))
    parser.add_argument("--ca-cert")
    args = parser.parse_args()
    if len(args.ids) not in (0, 2):
        parser.error("give both ACCOUNT_ID and DOCUMENT_ID, or neither")
    # Reflection clients take messages in protobuf's JSON mapping, where bytes are base64.
    with open(args.image, "rb") as image:
        request = {"image": base64.b64encode(image.read()).decode()}
    if args.ids:
        request.update(account_id=args.ids[0], document_id=args.ids[1], register=True)
    tls = {}
    if args.ca_cert:
        tls = {"ssl": True, "credentials": {"root_certificates": args.ca_cert}}
    metadata = [("authorization", f"Bearer {args.token}")] if args.token else None
    client = Client.get_by_endpoint(args.address, **tls)
    print("services:", ", ".join(client.service_names), file=sys.stderr)
    response = client.request("idforensics.v1.IdForensics", "Analyze", request, metadata=metadata)
    print(json.dumps(response, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
