"""The analysis settings and commands are documented where users look for them."""

from __future__ import annotations

from pathlib import Path

from analytics.config import AnalysisConfig

ROOT = Path(__file__).resolve().parent.parent


def test_every_analysis_setting_is_documented_with_its_default() -> None:
    text = (ROOT / "docs" / "analysis.md").read_text(encoding="utf-8")
    for section, model in AnalysisConfig():
        assert f"### `{section}`" in text
        for name, field in type(model).model_fields.items():
            assert field.description, name
            assert f"| `{name}` | `{getattr(model, name)}` |" in text, name


def test_analysis_commands_are_in_the_readme() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    for command in ("linkscope analyze", "linkscope export", "linkscope evaluate"):
        assert command in text


def test_config_file_overrides_only_what_it_names(tmp_path: Path) -> None:
    path = tmp_path / "cfg.json"
    path.write_text('{"trading": {"sync_window_ms": 2000}}')
    cfg = AnalysisConfig.load(path)
    assert cfg.trading.sync_window_ms == 2000
    assert cfg.wash == AnalysisConfig().wash
    assert cfg.digest() != AnalysisConfig().digest()


def test_a_misspelt_setting_is_a_clear_error(tmp_path: Path) -> None:
    from linkscope.errors import ConfigError

    path = tmp_path / "cfg.json"
    path.write_text('{"trading": {"sync_window": 2000}}')
    try:
        AnalysisConfig.load(path)
    except ConfigError as exc:
        assert "sync_window" in str(exc) and str(path) in str(exc)
    else:
        raise AssertionError("a misspelt setting must not be ignored")


def test_every_setting_is_in_the_readme() -> None:
    from linkscope.settings import Settings

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    for name, field in Settings.model_fields.items():
        assert f"`LINKSCOPE_{name.upper()}`" in text, name
        assert field.description, name


def test_every_api_route_is_documented() -> None:
    from api.main import create_app
    from linkscope.settings import Settings

    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    schema = create_app(Settings(keys_file="/nonexistent")).openapi()
    for path, operations in schema["paths"].items():
        if path.startswith("/v1"):
            for method in operations:
                assert (
                    f"{method.upper()} {path.replace('{group_id}', '{id}').replace('{account_id}', '{id}').replace('{run_id}', '{id}')}"
                    in text
                ), (method, path)
