"""AWS on 127.0.0.1 for authcfg's AWS session tests: moto's server (S3,
IAM, STS) with IAM authentication on, so every request must be signed by a
known key (a long-lived one, or a session STS made) that its policies allow.
Sets up a user whose key may call STS only, a role the user assumes that may
use S3, and a bucket with one object. Counts STS calls: `GET /_authcfg/sts-calls`
answers the list of them (action and the non-secret parameters).
Prints one line `READY <json>`."""
import io
import json
import os
import sys
import threading
import urllib.parse

# The first five requests (the user, its key and policy, the role and its
# policy) are let through; every request after that must be signed.
os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = "5"

import boto3  # noqa: E402
from moto.server import DomainDispatcherApplication, create_backend_app  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

calls = []
lock = threading.Lock()
KEPT = ("Action", "RoleArn", "RoleSessionName", "ExternalId", "SerialNumber",
        "TokenCode", "DurationSeconds")


def counting(app):
    def wrapped(environ, start_response):
        if environ.get("PATH_INFO") == "/_authcfg/sts-calls":
            with lock:
                body = json.dumps(calls).encode()
            start_response("200 OK", [("Content-Type", "application/json")])
            return [body]
        if environ.get("REQUEST_METHOD") == "POST":
            n = int(environ.get("CONTENT_LENGTH") or 0)
            raw = environ["wsgi.input"].read(n) if n else b""
            environ["wsgi.input"] = io.BytesIO(raw)
            form = urllib.parse.parse_qs(raw.decode("utf-8", "replace"))
            action = form.get("Action", [""])[0]
            if action in ("AssumeRole", "GetSessionToken"):
                with lock:
                    calls.append({k: form[k][0] for k in KEPT if k in form})
        return app(environ, start_response)
    return wrapped


app = counting(DomainDispatcherApplication(create_backend_app))
server = make_server("127.0.0.1", 0, app, threaded=True)
threading.Thread(target=server.serve_forever, daemon=True).start()
host, port = server.server_address[:2]
endpoint = f"http://{host}:{port}"
boot = dict(endpoint_url=endpoint, region_name="us-east-1",
            aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
iam = boto3.client("iam", **boot)
iam.create_user(UserName="authcfg")
key = iam.create_access_key(UserName="authcfg")["AccessKey"]
iam.put_user_policy(UserName="authcfg", PolicyName="sts", PolicyDocument=json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "sts:*", "Resource": "*"}],
}))
role = iam.create_role(RoleName="authcfg-s3", AssumeRolePolicyDocument=json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
}))["Role"]
iam.put_role_policy(RoleName="authcfg-s3", PolicyName="s3", PolicyDocument=json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
}))
# The bucket is made through the role, as the tests will use it.
sts = boto3.client("sts", endpoint_url=endpoint, region_name="us-east-1",
                   aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
c = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="setup")["Credentials"]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"],
                  aws_session_token=c["SessionToken"])
s3.create_bucket(Bucket="authcfg-aws")
s3.put_object(Bucket="authcfg-aws", Key="hello.txt", Body=b"hello")
with lock:
    calls.clear()
print("READY " + json.dumps({"endpoint": endpoint, "access_key_id": key["AccessKeyId"],
                             "secret_access_key": key["SecretAccessKey"], "role_arn": role["Arn"],
                             "bucket": "authcfg-aws"}), flush=True)
sys.stdin.read()  # runs until the test closes our stdin
server.shutdown()
