"""The config file: defaults when absent, one clear error when wrong, and never a secret in it."""

from __future__ import annotations

from pathlib import Path

import pytest

from triage.config import DEFAULT_TRUSTED_AUTHSERV_IDS, Config, load_config
from triage.errors import ConfigError


def write(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    path.chmod(mode)
    return path


def test_missing_default_file_means_defaults(tmp_path):
    config = load_config(tmp_path / "nope.toml", explicit=False)
    assert config == Config()
    assert config.notify.min_severity == "medium"
    assert config.billing.jpy_per_usd == 150
    assert config.mail.trusted_authserv_ids == DEFAULT_TRUSTED_AUTHSERV_IDS


def test_missing_named_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml", explicit=True)


def test_full_example_config_loads():
    config = load_config(Path(__file__).parent.parent / "examples" / "config.toml", explicit=True)
    assert config.imap is not None and config.imap.tls == "ssl" and config.imap.port == 993
    assert config.smtp is not None and config.smtp.sender
    assert config.notify.to


def test_values_are_read(tmp_path):
    config = load_config(write(tmp_path, """
[imap]
host = "imap.example.jp"
user = "owner@example.jp"
password_env = "IMAP_PASSWORD"
tls = "starttls"
folders = ["INBOX", "Spam"]
[notify]
to = ["owner@example.jp"]
min_severity = "high"
[aws]
regions = ["ap-northeast-1", "us-east-1"]
home_regions = ["ap-northeast-1"]
account_ids = ["123456789012"]
[billing]
jpy_per_usd = 148.5
[rules]
extra = ["my-rules.toml"]
"""), explicit=True)
    assert config.imap is not None and config.imap.port == 143 and config.imap.folders == ("INBOX", "Spam")
    assert config.notify.min_severity == "high"
    assert config.aws.regions == ("ap-northeast-1", "us-east-1")
    assert config.billing.jpy_per_usd == 148.5
    assert config.rules.extra == ((tmp_path / "my-rules.toml").resolve(),)


@pytest.mark.parametrize("text, message", [
    ("[imap\nhost=1", "not valid TOML"),
    ("[imapp]\nhost='x'", "unknown section 'imapp'"),
    ("[notify]\nmin_severity = 'urgent'", "min_severity must be one of"),
    ("[imap]\nuser='u'\npassword_env='P'", "host is required"),
    ("[imap]\nhost='imap.example.jp'\nuser='u'\npassword_env='P'\ntls='none'", 'only allowed for a loopback host'),
    ("[imap]\nhost='imap.example.jp'\nuser='u'\npassword='hunter2'", "secrets go in an environment variable"),
    ("[aws]\naccount_ids = [123456789012]", "list of strings"),
    ("[aws]\naccount_ids = ['1234']", "must be 12 digits"),
    ("[aws]\nregions = ['tokyo']", "is not a region code"),
    ("[billing]\njpy_per_usd = -1", "at least"),
    ("[smtp]\nhost='smtp.example.jp'", "from is required"),
])
def test_bad_config_is_one_clear_error(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message) as err:
        load_config(write(tmp_path, text), explicit=True)
    assert "\n" not in str(err.value)
    assert str(tmp_path / "config.toml") in str(err.value) or "TOML" in str(err.value)


def test_plaintext_is_accepted_for_loopback(tmp_path):
    config = load_config(write(tmp_path, "[imap]\nhost='127.0.0.1'\nuser='u'\npassword_env='P'\ntls='none'"),
                         explicit=True)
    assert config.imap is not None and config.imap.port == 143


@pytest.mark.parametrize("secret", [
    'AKIAIOSFODNN7EXAMPLE',
    'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    '1f2e3d4c-5b6a-7988-a1b2-c3d4e5f6a7b8:fx',
])
def test_world_readable_file_with_a_secret_is_refused(tmp_path, secret):
    path = write(tmp_path, f"[aws]\nprofile = '{secret}'\n", mode=0o644)
    with pytest.raises(ConfigError, match=r"readable by other users .* chmod 600"):
        load_config(path, explicit=True)


def test_private_file_with_a_profile_name_is_fine(tmp_path):
    path = write(tmp_path, "[aws]\nprofile = 'personal'\n", mode=0o644)
    assert load_config(path, explicit=True).aws.profile == "personal"


@pytest.mark.parametrize("text", [
    "# old key, do not use: AKIAIOSFODNN7EXAMPLE\n[aws]\nprofile = 'audit'\n",
    "[aws]\nprofile = 'audit'  # secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
    "[imap]\n# password = hunter2hunter2\npassword_env = 'IMAP_PASSWORD'\n",
    "# export DEEPL_AUTH_KEY=1f2e3d4c-5b6a-7988-a1b2-c3d4e5f6a7b8:fx\n",
    "not toml at all [[[ AKIAIOSFODNN7EXAMPLE\n",
    # OAuth2 tokens, pasted from a token command's output or baked into the command itself.
    "# oama printed ya29.a0AfB_byC1x2y3z4w5v6u7t8s9r0q-ZZ9\n",
    "[imap]\noauth2_token_command = 'echo ya29.a0AfB_byC1x2y3z4w5v6u7t8s9r0q-ZZ9'\n",
    "# refresh: 1//0gLr5nWq8HkT2CgYIARAAGBASNwF-L9Ir\n",
    "# eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL291dGxvb2sub2ZmaWNlLmNvbSJ9.c2ln\n",
    "# curl -H 'Authorization: Bearer Zm9vYmFyYmF6cXV4cXV1eGNvcmdl'\n",
    "[smtp]\n# pass = S3cr3t!pw\n",
    "# pwd=S3cr3t!pw\n",
])
def test_world_readable_file_with_a_secret_in_a_comment_is_refused(tmp_path, text):
    path = write(tmp_path, text, mode=0o644)
    with pytest.raises(ConfigError, match=r"readable by other users and line \d+ looks like a secret.*chmod 600"):
        load_config(path, explicit=True)


def test_private_file_may_keep_a_key_in_a_comment(tmp_path):
    path = write(tmp_path, "# AKIAIOSFODNN7EXAMPLE\n[aws]\nprofile = 'audit'\n", mode=0o600)
    assert load_config(path, explicit=True).aws.profile == "audit"


def test_the_example_config_is_not_taken_for_a_secret_when_world_readable(tmp_path):
    # Its comments name variables and show placeholders (`export TRIAGE_IMAP_PASSWORD=...`): no secret.
    example = Path(__file__).resolve().parent.parent / "examples" / "config.toml"
    path = write(tmp_path, example.read_text(), mode=0o644)
    assert load_config(path, explicit=True).imap is not None
