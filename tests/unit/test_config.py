"""Config validation: a bad config fails start-up with the file and the key named."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from router.auth import hash_key
from router.classify.model import load_classifier
from router.config.load import EMBEDDED, ConfigError, load_settings
from router.policy.router import Router

WriteConfig = Callable[[str], Path]

GOOD = """
providers:
  openai:
    base_url: https://api.openai.com/v1
    api_key_env: OPENAI_API_KEY
models:
  gpt-4.1-mini:
    provider: openai
    context_window: 1047576
"""


def load(path: Path, env: dict[str, str], home: Path) -> object:
    return load_settings(str(path), env={**env, "TOKENWISE_HOME": str(home)}, cwd=path.parent)


def test_good_config_resolves(write_config: WriteConfig, home: Path) -> None:
    path = write_config(GOOD)
    settings = load_settings(str(path), env={"OPENAI_API_KEY": "sk-x", "TOKENWISE_HOME": str(home)})
    model = settings.models["gpt-4.1-mini"]
    assert model.upstream_id == "gpt-4.1-mini"
    assert model.provider.api_key == "sk-x"
    assert settings.default_model == "gpt-4.1-mini"
    assert settings.source == str(path)


def test_unknown_key_names_file_and_key_path(write_config: WriteConfig, home: Path) -> None:
    path = write_config(GOOD + "    context_windw: 5\n")
    with pytest.raises(ConfigError) as err:
        load(path, {"OPENAI_API_KEY": "sk-x"}, home)
    assert str(err.value) == f"{path}: models.gpt-4.1-mini.context_windw: unknown key"


def test_unknown_section_is_named(write_config: WriteConfig, home: Path) -> None:
    path = write_config(GOOD + "routingg:\n  default_model: x\n")
    with pytest.raises(ConfigError, match=r"tokenwise.yaml: routingg: unknown key"):
        load(path, {"OPENAI_API_KEY": "sk-x"}, home)


def test_missing_env_var_for_provider_key(write_config: WriteConfig, home: Path) -> None:
    path = write_config(GOOD)
    with pytest.raises(ConfigError) as err:
        load(path, {}, home)
    message = str(err.value)
    assert message.startswith(f"{path}: providers.openai.api_key_env:")
    assert "OPENAI_API_KEY is not set" in message


def test_model_pointing_at_missing_provider(write_config: WriteConfig, home: Path) -> None:
    path = write_config(GOOD.replace("provider: openai", "provider: openia"))
    with pytest.raises(ConfigError) as err:
        load(path, {"OPENAI_API_KEY": "sk-x"}, home)
    assert str(err.value) == (
        f"{path}: models.gpt-4.1-mini.provider: unknown provider 'openia' (known: openai)"
    )


def test_wrong_type_is_named(write_config: WriteConfig, home: Path) -> None:
    path = write_config(GOOD + "server:\n  port: eighty\n")
    with pytest.raises(ConfigError, match=r"tokenwise.yaml: server.port: "):
        load(path, {"OPENAI_API_KEY": "sk-x"}, home)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("server:\n  port: '8000'\n", "server.port: Input should be a valid integer"),
        ("server:\n  port: true\n", "server.port: Input should be a valid integer"),
        ("server:\n  workers: true\n", "server.workers: Input should be a valid integer"),
        ("server:\n  host: ''\n", "server.host: String should have at least 1 character"),
        ("routing:\n  session_pinning: 'yes'\n", "routing.session_pinning: Input should be a"),
        ("server:\n  timeouts: {idle: '60'}\n", "server.timeouts.idle: Input should be a"),
    ],
)
def test_a_value_of_the_wrong_type_is_not_converted(
    write_config: WriteConfig, home: Path, extra: str, message: str
) -> None:
    """A quoted number, or true where a number goes, is a mistake in the file, not a value."""
    path = write_config(GOOD + extra)
    with pytest.raises(ConfigError, match=rf"tokenwise.yaml: {message}"):
        load(path, {"OPENAI_API_KEY": "sk-x"}, home)


def test_a_key_given_twice_is_named_with_its_lines(write_config: WriteConfig, home: Path) -> None:
    twice = GOOD + "  gpt-4.1-mini:\n    provider: nowhere\n"
    with pytest.raises(
        ConfigError, match=r"line 10: the key 'gpt-4.1-mini' is given twice \(first on line 7\)"
    ):
        load(write_config(twice), {"OPENAI_API_KEY": "sk-x"}, home)
    with pytest.raises(ConfigError, match=r"the key 'models' is given twice"):
        load(write_config(GOOD + "models: {}\n"), {"OPENAI_API_KEY": "sk-x"}, home)
    merged = "base: &base {provider: openai}\n" + GOOD.replace("provider: openai", "<<: *base")
    with pytest.raises(ConfigError, match=r"base: unknown key"):  # a merge key is no repeat
        load(write_config(merged), {"OPENAI_API_KEY": "sk-x"}, home)


def test_a_file_that_is_not_utf8_is_named(write_config: WriteConfig, home: Path) -> None:
    path = write_config(GOOD)
    path.write_bytes(path.read_bytes() + b"# caf\xe9\n")
    with pytest.raises(ConfigError, match=r"tokenwise.yaml: not UTF-8 text"):
        load(path, {"OPENAI_API_KEY": "sk-x"}, home)


def test_invalid_yaml_is_named(write_config: WriteConfig, home: Path) -> None:
    path = write_config("models: [unclosed\n")
    with pytest.raises(ConfigError, match=r"tokenwise.yaml: not valid YAML"):
        load(path, {}, home)


def test_missing_file_is_named(tmp_path: Path, home: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope.yaml: cannot read the config file"):
        load(tmp_path / "nope.yaml", {}, home)


def test_unknown_default_model(write_config: WriteConfig, home: Path) -> None:
    path = write_config(GOOD + "routing:\n  default_model: gpt-9\n")
    with pytest.raises(ConfigError, match=r"routing.default_model: unknown model 'gpt-9'"):
        load(path, {"OPENAI_API_KEY": "sk-x"}, home)


def test_bad_base_url(write_config: WriteConfig, home: Path) -> None:
    path = write_config(GOOD.replace("https://api.openai.com/v1", "api.openai.com"))
    with pytest.raises(ConfigError, match=r"providers.openai.base_url: must start with http"):
        load(path, {"OPENAI_API_KEY": "sk-x"}, home)


def test_static_keys_are_hashed(write_config: WriteConfig, home: Path) -> None:
    digest = hash_key("sk-team-a")
    path = write_config(
        GOOD
        + f"auth:\n  keys:\n    - team: a\n      key_sha256: '{digest}'\n"
        + "    - team: b\n      key_env: TEAM_B_KEY\n"
    )
    settings = load_settings(
        str(path),
        env={"OPENAI_API_KEY": "sk-x", "TEAM_B_KEY": "sk-team-b", "TOKENWISE_HOME": str(home)},
    )
    assert settings.keys[digest].team == "a"
    assert settings.keys[hash_key("sk-team-b")].team == "b"
    assert "sk-team-b" not in repr(settings.keys)
    assert settings.dev_key is None


def test_a_key_given_twice_or_two_keys_of_one_name_are_refused(
    write_config: WriteConfig, home: Path
) -> None:
    digest = hash_key("sk-team-a")
    env = {"OPENAI_API_KEY": "sk-x", "SAME": "sk-team-a"}
    same = "    - team: b\n      key_env: SAME\n"
    first = f"auth:\n  keys:\n    - team: a\n      name: ci\n      key_sha256: '{digest}'\n"
    with pytest.raises(ConfigError, match=r"auth.keys.1: the same key as auth.keys.0"):
        load(write_config(GOOD + first + same), env, home)
    named = "    - team: b\n      name: ci\n      key_env: OTHER\n"
    with pytest.raises(ConfigError, match=r"auth.keys.1.name: another key is already named 'ci'"):
        load(write_config(GOOD + first + named), {**env, "OTHER": "sk-other"}, home)


def test_key_needs_exactly_one_source(write_config: WriteConfig, home: Path) -> None:
    path = write_config(GOOD + "auth:\n  keys:\n    - team: a\n")
    with pytest.raises(
        ConfigError, match=r"auth.keys.0: give exactly one of key_sha256 or key_env"
    ):
        load(path, {"OPENAI_API_KEY": "sk-x"}, home)


def test_embedded_default_without_config(tmp_path: Path, home: Path) -> None:
    settings = load_settings(None, env={"TOKENWISE_HOME": str(home)}, cwd=tmp_path)
    assert settings.source == EMBEDDED
    assert settings.uses_simulator
    assert all(name.startswith("sim-") for name in settings.models)
    assert all(m.simulated for m in settings.models.values())
    # a development key is made once and kept under TOKENWISE_HOME
    assert settings.dev_key
    again = load_settings(None, env={"TOKENWISE_HOME": str(home)}, cwd=tmp_path)
    assert again.dev_key == settings.dev_key
    assert (home / "dev-key").stat().st_mode & 0o777 == 0o600


def test_dev_key_fixed_by_environment(tmp_path: Path, home: Path) -> None:
    env = {"TOKENWISE_HOME": str(home), "TOKENWISE_DEV_KEY": "tw-fixed"}
    assert load_settings(None, env=env, cwd=tmp_path).dev_key == "tw-fixed"


@pytest.mark.parametrize("fixed_key", [False, True])
def test_a_state_folder_that_cannot_be_made_stops_start_up(tmp_path: Path, fixed_key: bool) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    env = {"TOKENWISE_HOME": str(blocker / "home")}
    if fixed_key:  # no development key to keep under home: the folder is still checked
        env["TOKENWISE_DEV_KEY"] = "tw-fixed"
    with pytest.raises(ConfigError) as caught:
        load_settings(None, env=env, cwd=tmp_path)
    message = str(caught.value)
    assert f"$TOKENWISE_HOME {blocker / 'home'} cannot be used (Not a directory)" in message
    assert "point TOKENWISE_HOME at a folder" in message
    # commands that serve nothing do not need it
    assert load_settings(None, env=env, cwd=tmp_path, serving=False).source == EMBEDDED


def test_the_default_state_folder_is_named_when_it_cannot_be_made(tmp_path: Path) -> None:
    (tmp_path / ".tokenwise").write_text("not a folder")
    with pytest.raises(ConfigError, match=r"the state folder .*\.tokenwise cannot be used"):
        load_settings(None, env={}, cwd=tmp_path)


def test_config_found_through_environment(write_config: WriteConfig, home: Path) -> None:
    path = write_config(GOOD)
    env = {"TOKENWISE_CONFIG": str(path), "OPENAI_API_KEY": "k", "TOKENWISE_HOME": str(home)}
    assert load_settings(None, env=env, cwd=home).source == str(path)


def test_model_without_a_price_fails_start_up(write_config: WriteConfig, home: Path) -> None:
    path = write_config(GOOD + "  my-local-llm:\n    provider: openai\n")
    with pytest.raises(ConfigError) as err:
        load(path, {"OPENAI_API_KEY": "sk-x"}, home)
    assert str(err.value).startswith(f"{path}: models.my-local-llm.price: no price for model")


def test_price_key_points_at_another_entry(write_config: WriteConfig, home: Path) -> None:
    path = write_config(GOOD + "  my-local-llm:\n    provider: openai\n    price: gpt-4.1-mini\n")
    settings = load_settings(str(path), env={"OPENAI_API_KEY": "k", "TOKENWISE_HOME": str(home)})
    assert settings.models["my-local-llm"].price.key == "gpt-4.1-mini"


@pytest.mark.parametrize("name", ["a b", "ops/eu", "team:x", ""])
def test_a_team_name_that_cannot_be_a_scope_or_url_segment_is_refused(
    write_config: WriteConfig, home: Path, name: str
) -> None:
    path = write_config(GOOD + f"auth:\n  teams: [{{name: {name!r}}}]\n")
    with pytest.raises(ConfigError, match=r"tokenwise.yaml: auth.teams.0.name: "):
        load(path, {"OPENAI_API_KEY": "sk-x"}, home)


def test_a_key_allowing_a_model_nobody_serves_stops_start_up(
    write_config: WriteConfig, home: Path
) -> None:
    extra = "auth:\n  keys: [{team: t, key_env: T_KEY, models: [gpt-4.1-mini, gpt-99]}]\n"
    path = write_config(GOOD + extra)
    settings = load(path, {"OPENAI_API_KEY": "sk-x", "T_KEY": "secret"}, home)
    with pytest.raises(
        ConfigError, match=r"tokenwise.yaml: auth.keys.0.models.1: no model named 'gpt-99'"
    ):
        Router.from_settings(settings, load_classifier())


def test_a_role_mapped_to_no_catalog_model_is_named(write_config: WriteConfig, home: Path) -> None:
    roles = "routing:\n  roles: {small: gpt-4.1-mini, reasoner: nope, large: gpt-4.1-mini}\n"
    settings = load(write_config(GOOD + roles), {"OPENAI_API_KEY": "sk-x"}, home)
    with pytest.raises(
        ConfigError, match=r"tokenwise.yaml: routing.roles.reasoner: no catalog model named 'nope'"
    ):
        Router.from_settings(settings, load_classifier())


@pytest.mark.parametrize(
    ("extra", "where"),
    [
        ("auth:\n  teams: [{name: a, policy: economy}]\n", "auth.teams.0.policy"),
        (
            "auth:\n  teams: [{name: a}]\nbudgets:\n  limits:\n"
            "    - {scope: 'team:a', limit_usd: 5, hard: false, soft_policy: economy}\n",
            "budgets.limits.0.soft_policy",
        ),
    ],
)
def test_a_policy_named_while_virtual_models_are_off_is_refused(
    write_config: WriteConfig, home: Path, extra: str, where: str
) -> None:
    settings = load(write_config(GOOD + extra), {"OPENAI_API_KEY": "sk-x"}, home)
    with pytest.raises(ConfigError, match=rf"{where}: no policy named 'economy' \(virtual models"):
        Router.from_settings(settings, load_classifier())


def test_where_a_path_or_name_came_from_is_named(
    write_config: WriteConfig, home: Path, tmp_path: Path
) -> None:
    env = {"OPENAI_API_KEY": "sk-x"}
    roles = (
        "routing:\n  roles: {small: gpt-4.1-mini, reasoner: gpt-4.1-mini, large: gpt-4.1-mini}\n"
    )
    missing = tmp_path / "no-such-folder"
    from_file = load(write_config(GOOD + roles + f"  policies_dir: {missing}\n"), env, home)
    with pytest.raises(ConfigError, match=r"tokenwise.yaml: routing.policies_dir: .* no such"):
        Router.from_settings(from_file, load_classifier())
    from_env = load(write_config(GOOD + roles), {**env, "TOKENWISE_POLICIES": str(missing)}, home)
    with pytest.raises(ConfigError, match=r"^\$TOKENWISE_POLICIES: .*no-such-folder: no such"):
        Router.from_settings(from_env, load_classifier())
    auto = GOOD + "  auto:\n    provider: openai\n    price: gpt-4.1-mini\n" + roles
    with pytest.raises(ConfigError, match=r"tokenwise.yaml: models.auto: the name of a virtual"):
        Router.from_settings(load(write_config(auto), env, home), load_classifier())
    with pytest.raises(ConfigError, match=r"^\$TOKENWISE_PRICING: invalid price file"):
        load(write_config(GOOD), {**env, "TOKENWISE_PRICING": str(missing / "p.json")}, home)


def test_an_empty_config_path_is_an_error_not_the_default(tmp_path: Path, home: Path) -> None:
    with pytest.raises(ConfigError, match=r"--config names no file"):
        load_settings("", env={"TOKENWISE_HOME": str(home)}, cwd=tmp_path)


def test_relative_paths_are_taken_from_the_config_files_folder(
    tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`metering.pricing_file` and `routing.policies_dir` mean the same files wherever the
    proxy starts: a relative path is read from the config file's folder."""
    import json
    from importlib import resources

    folder = tmp_path / "conf"
    (folder / "policies").mkdir(parents=True)
    prices = json.loads(resources.files("router").joinpath("data/pricing.json").read_text())
    prices["models"]["gpt-4.1-mini"]["input"] = 123.0
    (folder / "prices.json").write_text(json.dumps(prices), encoding="utf-8")
    policy = "virtual_model: auto-mine\nreference: small\nfloor: 0.5\ntiers:\n" + "".join(
        f"  {tier}:\n    any:\n      - {{model: small, effort: none, quality: 0.9}}\n"
        for tier in ("trivial", "simple", "moderate", "hard")
    )
    (folder / "policies" / "mine.yaml").write_text(policy, encoding="utf-8")
    roles = "  roles: {small: gpt-4.1-mini, reasoner: gpt-4.1-mini, large: gpt-4.1-mini}\n"
    text = GOOD + "metering:\n  pricing_file: prices.json\nrouting:\n  policies_dir: policies\n"
    text += "  default_policy: mine\n"
    config = folder / "tokenwise.yaml"
    config.write_text(text + roles, encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    env = {"OPENAI_API_KEY": "sk-x", "TOKENWISE_HOME": str(home)}
    settings = load_settings(str(config), env=env)
    assert settings.models["gpt-4.1-mini"].price.rates.input == 123
    assert settings.config.routing.policies_dir == str(folder / "policies")
    assert "auto-mine" in Router.from_settings(settings, load_classifier()).served()


def test_think_opened_by_template_needs_think_tags(write_config: WriteConfig, home: Path) -> None:
    entry = "  r1:\n    provider: openai\n    price: gpt-4.1-mini\n    reasoning: {%s}\n"
    env = {"OPENAI_API_KEY": "sk-x"}
    bad = write_config(GOOD + entry % "think_opened_by_template: true")
    with pytest.raises(ConfigError, match=r"models.r1.reasoning.think_opened_by_template: only"):
        load(bad, env, home)
    good = entry % "output_field: think_tags, think_opened_by_template: true"
    settings = load(write_config(GOOD + good), env, home)
    reasoning = settings.models["r1"].reasoning  # type: ignore[attr-defined]
    assert reasoning.think_opened_by_template is True
