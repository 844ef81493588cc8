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
