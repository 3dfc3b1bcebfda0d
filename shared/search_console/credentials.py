"""Where a property's Search Console credential lives: its own secret in Secrets Manager.

The secret is ``{gsc_secret_prefix}{tenant_id}/{property_id}`` and holds the
credential's JSON (a service account key or an ``authorized_user`` refresh
token). The database keeps only the secret's name and a non-secret identity;
nothing returns the credential to an API caller.
"""

import uuid

from botocore.exceptions import ClientError
from pydantic import TypeAdapter, ValidationError

from shared import aws
from shared.errors import PermanentError
from shared.search_console.models import GscCredential, ServiceAccountCredential
from shared.settings import SearchConsoleCredentials, settings_of

_CREDENTIAL: TypeAdapter[GscCredential] = TypeAdapter(GscCredential)


def secret_name(tenant_id: str, property_id: uuid.UUID) -> str:
    return f"{settings_of(SearchConsoleCredentials).gsc_secret_prefix}{tenant_id}/{property_id}"


def identity(credential: GscCredential) -> str:
    """What may be shown about a credential: the service account's e-mail or the OAuth client id."""
    return credential.client_email if isinstance(credential, ServiceAccountCredential) else credential.client_id


def store(tenant_id: str, property_id: uuid.UUID, credential: GscCredential) -> str:
    """Create or replace the property's secret; returns its name."""
    name = secret_name(tenant_id, property_id)
    value = credential.model_dump_json(exclude_none=True)
    secrets = aws.client("secretsmanager")
    try:
        secrets.put_secret_value(SecretId=name, SecretString=value)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise
        options = {"KmsKeyId": key} if (key := settings_of(SearchConsoleCredentials).secrets_kms_key_id) else {}
        secrets.create_secret(
            Name=name,
            SecretString=value,
            Description=f"Search Console credential of property {property_id} (tenant {tenant_id})",
            **options,
        )
    return name


def load(name: str) -> GscCredential:
    """The credential in secret ``name``, read fresh (a replaced credential takes effect at once)."""
    try:
        raw = aws.client("secretsmanager").get_secret_value(SecretId=name)["SecretString"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            raise PermanentError(
                "The property's Search Console credential is gone; connect the property again."
            ) from exc
        raise
    try:
        return _CREDENTIAL.validate_json(raw)
    except ValidationError as exc:
        raise PermanentError("The stored Search Console credential is unreadable; connect the property again.") from exc


def delete(name: str) -> None:
    """Delete the secret at once (no recovery window: a disconnected credential must stop working)."""
    try:
        aws.client("secretsmanager").delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise
