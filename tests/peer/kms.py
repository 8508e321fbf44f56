"""AWS KMS on 127.0.0.1 for authcfg's key-service tests: moto's server (KMS,
IAM) with IAM authentication on, so every request must be signed by a known
key whose policies allow the action on that key.

Two things moto leaves out and real KMS does, added here so the tests see
what AWS would answer:
- the resource of a KMS call is the key it names (moto checks IAM policies
  against "*" for KMS), so a policy that allows one key's ARN allows that
  key only;
- a disabled key (or one pending deletion) refuses Encrypt, Decrypt and
  ReEncrypt (`DisabledException`, `KMSInvalidStateException`).

Sets up: an operator (allowed everything; the tests' `aws` CLI), the team's
key and another key, an admin who may use the team key (Encrypt, Decrypt,
ReEncrypt, DescribeKey), a runner who may only Decrypt and DescribeKey with
it, and an outsider allowed nothing in KMS. `GET /_authcfg/kms-calls`
answers the KMS calls made (target, key, encryption context, the caller's
access key id; never a plaintext); `POST /_authcfg/lie` makes it lie from
then on (each Decrypt answer names the other key). Prints one line `READY <json>`."""
import json
import os
import sys
import threading

# The first three requests (the operator, its key and policy) are let
# through; every request after that must be signed.
os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = "3"

import boto3  # noqa: E402
from moto.core.exceptions import JsonRESTError  # noqa: E402
from moto.kms import utils as kms_utils  # noqa: E402
from moto.kms.responses import KmsResponse  # noqa: E402
from moto.server import DomainDispatcherApplication, create_backend_app  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

calls = []
lock = threading.Lock()
# `POST /_authcfg/lie` (a lying server): Decrypt answers then name the
# other key as the one that decrypted.
lying = {"on": False}
USING = ("Encrypt", "Decrypt", "ReEncrypt", "GenerateDataKey",
         "GenerateDataKeyWithoutPlaintext")


def _params(resp):
    try:
        return json.loads(resp.body or "{}")
    except ValueError:
        return {}


def _named_key(resp):
    """The key a call names: KeyId (DestinationKeyId for ReEncrypt), else
    the key the ciphertext was made with."""
    p = _params(resp)
    key = p.get("DestinationKeyId") or p.get("KeyId")
    if not key and p.get("CiphertextBlob"):
        import base64
        try:
            blob = base64.b64decode(p["CiphertextBlob"])
            key = kms_utils._deserialize_ciphertext_blob(blob).key_id
        except Exception:
            return None
    if not key:
        return None
    try:
        backend = resp.kms_backend
        return backend.keys[backend.any_id_to_key_id(key)]
    except Exception:
        return None


def determine_resource(self):
    key = _named_key(self)
    return key.arn if key is not None else "*"


KmsResponse._determine_resource = determine_resource

original_call_action = KmsResponse.call_action


def call_action(self):
    action = self._get_action()
    p = _params(self)
    auth = self.headers.get("Authorization", "")
    caller = auth.split("Credential=", 1)[1].split("/", 1)[0] if "Credential=" in auth else ""
    with lock:
        calls.append({
            "target": action,
            "key_id": p.get("KeyId") or p.get("DestinationKeyId") or "",
            "context": p.get("EncryptionContext") or p.get("DestinationEncryptionContext") or {},
            "source_context": p.get("SourceEncryptionContext") or {},
            "caller": caller,
        })
    if action in USING:
        key = _named_key(self)
        if key is not None and key.key_state == "Disabled":
            err = JsonRESTError("DisabledException", f"{key.arn} is disabled.")
            return err.code, {"status": err.code, "x-amzn-ErrorType": "DisabledException",
                              "content-type": "application/x-amz-json-1.1"}, err.description
        if key is not None and key.key_state != "Enabled":
            err = JsonRESTError("KMSInvalidStateException",
                                f"{key.arn} is {key.key_state}")
            return err.code, {"status": err.code,
                              "x-amzn-ErrorType": "KMSInvalidStateException",
                              "content-type": "application/x-amz-json-1.1"}, err.description
    answer = original_call_action(self)
    if action == "Decrypt" and lying["on"] and answer[0] == 200:
        body = json.loads(answer[2])
        body["KeyId"] = lying["key"]
        return answer[0], answer[1], json.dumps(body)
    return answer


KmsResponse.call_action = call_action


def with_calls(app):
    def wrapped(environ, start_response):
        if environ.get("PATH_INFO") == "/_authcfg/kms-calls":
            with lock:
                body = json.dumps(calls).encode()
            start_response("200 OK", [("Content-Type", "application/json")])
            return [body]
        if environ.get("PATH_INFO") == "/_authcfg/lie":
            lying["on"] = True
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"lying"]
        return app(environ, start_response)
    return wrapped


app = with_calls(DomainDispatcherApplication(create_backend_app))
server = make_server("127.0.0.1", 0, app, threaded=True)
threading.Thread(target=server.serve_forever, daemon=True).start()
host, port = server.server_address[:2]
endpoint = f"http://{host}:{port}"
REGION = "us-east-1"
boot = dict(endpoint_url=endpoint, region_name=REGION,
            aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
iam = boto3.client("iam", **boot)
iam.create_user(UserName="operator")
op_key = iam.create_access_key(UserName="operator")["AccessKey"]
iam.put_user_policy(UserName="operator", PolicyName="all", PolicyDocument=json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}))
op = dict(endpoint_url=endpoint, region_name=REGION,
          aws_access_key_id=op_key["AccessKeyId"],
          aws_secret_access_key=op_key["SecretAccessKey"])
iam = boto3.client("iam", **op)
kms = boto3.client("kms", **op)
team = kms.create_key(Description="authcfg team store")["KeyMetadata"]["Arn"]
other = kms.create_key(Description="another team")["KeyMetadata"]["Arn"]
lying["key"] = other


def user(name, actions, resource):
    iam.create_user(UserName=name)
    k = iam.create_access_key(UserName=name)["AccessKey"]
    if actions:
        iam.put_user_policy(UserName=name, PolicyName="kms", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resource}],
        }))
    return {"access_key_id": k["AccessKeyId"], "secret_access_key": k["SecretAccessKey"]}


admin = user("admin", ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:DescribeKey"],
             [team, other])
runner = user("runner", ["kms:Decrypt", "kms:DescribeKey"], team)
outsider = user("outsider", ["iam:GetUser"], "*")
with lock:
    calls.clear()
print("READY " + json.dumps({
    "endpoint": endpoint, "region": REGION, "key_arn": team, "other_key_arn": other,
    "operator": {"access_key_id": op_key["AccessKeyId"],
                 "secret_access_key": op_key["SecretAccessKey"]},
    "admin": admin, "runner": runner, "outsider": outsider,
}), flush=True)
sys.stdin.read()  # runs until the test closes our stdin
server.shutdown()
