"""S3 on 127.0.0.1 for authcfg's tests: moto's server with IAM
authentication on, so requests signed with a wrong secret are refused
(SignatureDoesNotMatch). Prints one line `READY <json>` with the endpoint,
an access key that may use S3, and a bucket that exists."""
import json
import os
import sys

# The first three requests (creating the user, its key and its policy) are
# let through; every request after that must be signed by a known key.
os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = "3"

import boto3  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402

server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
host, port = server.get_host_and_port()
endpoint = f"http://{host}:{port}"
iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                   aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
iam.create_user(UserName="authcfg")
key = iam.create_access_key(UserName="authcfg")["AccessKey"]
iam.put_user_policy(UserName="authcfg", PolicyName="s3", PolicyDocument=json.dumps({
    "Version": "2012-10-17",
    # GetSessionToken: `export` of an AWS config hands out a session.
    "Statement": [{"Effect": "Allow", "Action": ["s3:*", "sts:GetSessionToken"], "Resource": "*"}],
}))
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
s3.create_bucket(Bucket="authcfg-test")
print("READY " + json.dumps({"endpoint": endpoint, "access_key_id": key["AccessKeyId"],
                             "secret_access_key": key["SecretAccessKey"], "bucket": "authcfg-test"}), flush=True)
sys.stdin.read()  # runs until the test closes our stdin
server.stop()
