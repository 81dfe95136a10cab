"""Settings from the environment, host checks, models, pricing, and the public API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

import storyboard.providers.emulator as emulator_package
import storyboard.providers.kie as kie_package
from storyboard.pricing import DEFAULT_PRICES, billed_seconds, estimate, load_prices
from storyboard.providers.kie import Envelope, KieSettings, PollPolicy, TaskRecord

from .kie_helpers import body


def test_defaults_are_the_real_service() -> None:
    settings = KieSettings()
    assert settings.base_url == "https://api.kie.ai"
    assert settings.upload_base_url == "https://kieai.redpandaai.co"
    assert settings.api_key is None
    # live tasks take 2-3 min and have run past 5 min: the wait limit is 30 min
    assert settings.poll == PollPolicy(initial=2.5, factor=1.5, max_interval=10, timeout=1800)
    assert settings.poll.not_visible_timeout == 120


def test_from_env_reads_every_setting() -> None:
    env = {
        "KIE_API_KEY": "k",
        "KIE_BASE_URL": "http://127.0.0.1:8765/",
        "KIE_UPLOAD_BASE_URL": "http://127.0.0.1:8765",
        "KIE_TIMEOUT": "12.5",
        "KIE_MAX_ATTEMPTS": "3",
        "KIE_POLL_INITIAL": "1",
        "KIE_POLL_TIMEOUT": "60",
        "KIE_DOWNLOAD_MAX_BYTES": "1000",
        "UNRELATED": "x",
    }
    settings = KieSettings.from_env(env)
    assert settings.base_url == "http://127.0.0.1:8765"
    assert settings.timeout == 12.5 and settings.retry.max_attempts == 3
    assert settings.poll.initial == 1 and settings.poll.timeout == 60
    assert settings.download_max_bytes == 1000
    assert KieSettings.from_env({}, timeout=5).timeout == 5


def test_bad_urls_are_refused() -> None:
    with pytest.raises(ValidationError, match="http"):
        KieSettings(base_url="api.kie.ai")


def test_the_key_goes_only_to_api_and_upload_hosts() -> None:
    settings = KieSettings()
    assert settings.is_authorized_host("https://api.kie.ai/api/v1/jobs/createTask")
    assert settings.is_authorized_host("https://kieai.redpandaai.co:443/api/file-stream-upload")
    assert not settings.is_authorized_host("https://tempfile.aiquickdraw.com/x.mp4")
    assert not settings.is_authorized_host("http://api.kie.ai/x")  # scheme matters
    assert not settings.is_authorized_host("https://api.kie.ai.evil.example/x")


def test_envelope_accepts_msg_or_message() -> None:
    assert Envelope.model_validate({"code": 200, "message": "ok"}).msg == "ok"
    assert Envelope.model_validate({"code": 200, "msg": None}).msg == ""


def test_task_record_is_lenient_where_the_service_varies() -> None:
    record = TaskRecord.model_validate(
        {
            "taskId": "t",
            "state": "success",
            "resultJson": {"resultUrls": ["u"]},
            "failCode": 0,
            "newField": 1,
        }
    )
    assert record.result_urls == ["u"] and record.fail_code == "0"
    broken = TaskRecord.model_validate({"taskId": "t", "state": "success", "resultJson": "[1]"})
    with pytest.raises(ValueError, match="resultUrls"):
        _ = broken.result_urls
    assert json.loads(record.to_wire()["resultJson"]) == {"resultUrls": ["u"]}


def test_estimates_follow_the_table() -> None:
    assert estimate(body()).credits == 5 * 36 and estimate(body()).usd == round(5 * 0.1764, 4)
    multi = body(multi_shots=True, sound=True, mode="pro", duration="7")
    assert estimate(multi).credits == 7 * 71 and estimate(multi).sound
    assert "estimate" in str(estimate(body())) and "kie-api.md" in estimate(body()).source
    assert "ASSUMPTION" in DEFAULT_PRICES.credits_source
    no_duration = body()
    del no_duration["input"]["duration"]
    no_duration["input"]["multi_prompt"] = [{"prompt": "a", "duration": 2}] * 2
    assert billed_seconds(no_duration) == 4


def test_prices_can_be_overridden_from_json_or_yaml(tmp_path: Path) -> None:
    override = {"source": "invoice", "rates": {"std": {"credits_per_second": 10}}}
    (tmp_path / "p.json").write_text(json.dumps(override))
    (tmp_path / "p.yaml").write_text("rates:\n  pro+sound: {usd_per_second: 1.0}\n")
    table = load_prices(tmp_path / "p.json")
    assert estimate(body(), table).credits == 50 and table.source == "invoice"
    assert table.rate("std", False).usd_per_second == 0.1764  # untouched fields stay
    yaml_table = load_prices(tmp_path / "p.yaml")
    assert yaml_table.rate("pro", True).usd_per_second == 1.0
    assert "overridden" in yaml_table.source
    with pytest.raises(KeyError, match="ultra"):
        DEFAULT_PRICES.rate("ultra", False)


@pytest.mark.parametrize("package", [kie_package, emulator_package])
def test_all_is_complete(package: object) -> None:
    exported = set(package.__all__)  # type: ignore[attr-defined]
    public = {
        name
        for name, value in vars(package).items()
        if not name.startswith("_") and not isinstance(value, type(json))
    }
    assert public == exported
    assert all(getattr(package, name) is not None for name in exported)
