#!/usr/bin/env python3
"""Calls idforensics' Analyze with nothing but server reflection: no .proto files, no generated code.

Shows that any gRPC client works from reflection alone.

    pip install grpc-requests
    python3 scripts/reflection_client.py 127.0.0.1:50051 IMAGE [ACCOUNT_ID DOCUMENT_ID]

With ACCOUNT_ID and DOCUMENT_ID the document is registered for that account.
"""

import base64
import json
import sys

from grpc_requests import Client


def main() -> int:
    if len(sys.argv) not in (3, 5):
        print(__doc__, file=sys.stderr)
        return 2
    address, image_path = sys.argv[1], sys.argv[2]
    # Reflection clients take messages in protobuf's JSON mapping, where bytes are base64.
    with open(image_path, "rb") as image:
        request = {"image": base64.b64encode(image.read()).decode()}
    if len(sys.argv) == 5:
        request.update(account_id=sys.argv[3], document_id=sys.argv[4], register=True)
    client = Client.get_by_endpoint(address)
    print("services:", ", ".join(client.service_names), file=sys.stderr)
    response = client.request("idforensics.v1.IdForensics", "Analyze", request)
    print(json.dumps(response, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
