"""The template's Secrets Manager secrets with their values: given, or generated as CloudFormation would.

A generated value (``GenerateSecretString``, or CloudFormation's 32-character
default) is generated once and kept in ``<secrets_dir>/<name>.json`` while its
generation options stay the same, so the local stack's database password
survives a restart as the deployed secret survives a deploy.
"""

import hashlib
import json
import secrets
import string
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kestrel_local.intrinsics import TemplateError, as_str
from kestrel_local.model import SecretSpec
from kestrel_local.resources import ResourceReader

# Secrets Manager's punctuation set for GenerateSecretString / GetRandomPassword.
_PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"


def read_secrets(reader: ResourceReader, secrets_dir: Path | None) -> dict[str, SecretSpec]:
    """Every secret with its value; generated values are kept under ``secrets_dir`` (None: not kept)."""
    found: dict[str, SecretSpec] = {}
    for logical_id, props in reader.of_type("AWS::SecretsManager::Secret"):
        name = reader.r.physical_name(logical_id)
        if "SecretString" in props:
            value = as_str(reader.value(props, "SecretString"))
        elif "GenerateSecretString" in props:
            value = generated_secret(name, reader.value(props, "GenerateSecretString"), secrets_dir)
        else:
            value = generated_secret(name, {}, secrets_dir)  # CloudFormation generates a 32-character password
        found[logical_id] = SecretSpec(
            logical_id=logical_id,
            name=name,
            secret_string=value,
            arn=reader.r.secret_arn(name),
            description=as_str(reader.value(props, "Description", "")),
        )
    return found


def generated_secret(name: str, options: Mapping[str, Any], secrets_dir: Path | None) -> str:
    """Generate once; kept in ``secrets_dir/<name>.json`` while the generation options stay the same."""
    fingerprint = hashlib.sha256(json.dumps(options, sort_keys=True).encode()).hexdigest()
    path = None
    if secrets_dir is not None:
        if ".." in Path(name).parts or name.startswith("/"):
            raise TemplateError(f"secret name {name!r} cannot be stored under the secrets directory")
        path = secrets_dir / f"{name}.json"
        if path.exists():
            stored = json.loads(path.read_text())
            if stored.get("options_sha256") == fingerprint:
                return str(stored["secret_string"])
    value = generate_secret_string(options)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"name": name, "options_sha256": fingerprint, "secret_string": value}))
        temporary.chmod(0o600)
        temporary.replace(path)
    return value


def generate_secret_string(options: Mapping[str, Any]) -> str:
    """Secrets Manager's GenerateSecretString, locally (same options, same character classes)."""

    def flag(key: str, default: bool = False) -> bool:
        return as_str(options.get(key, default)) == "true"

    length = int(options.get("PasswordLength", 32))
    excluded = set(as_str(options.get("ExcludeCharacters", "")))
    classes = [
        "" if flag("ExcludeLowercase") else string.ascii_lowercase,
        "" if flag("ExcludeUppercase") else string.ascii_uppercase,
        "" if flag("ExcludeNumbers") else string.digits,
        "" if flag("ExcludePunctuation") else _PUNCTUATION,
        " " if flag("IncludeSpace") else "",
    ]
    classes = [chars for chars in ("".join(c for c in group if c not in excluded) for group in classes) if chars]
    if not classes:
        raise TemplateError("GenerateSecretString excludes every character")
    alphabet = "".join(classes)
    required = flag("RequireEachIncludedType", True)
    while True:
        password = "".join(secrets.choice(alphabet) for _ in range(length))
        if not required or length < len(classes) or all(any(c in group for c in password) for group in classes):
            break
    template = options.get("SecretStringTemplate")
    key = options.get("GenerateStringKey")
    if template is None or key is None:
        return password
    document = json.loads(as_str(template))
    document[as_str(key)] = password
    return json.dumps(document)
