from __future__ import annotations

from schema.export import SCHEMA_DIR, appsync_sdl, export_files


def test_committed_schema_files_match_the_code() -> None:
    for name, content in export_files().items():
        committed = (SCHEMA_DIR / name).read_text(encoding="utf-8")
        assert committed == content, f"schema/{name} is stale: run `planner schema export`"


def test_appsync_export_leaves_out_only_appsync_scalars() -> None:
    sdl = 'scalar AWSDate\n\n"""A JSON value."""\nscalar AWSJSON\n\nscalar Mine\n\ntype Query {\n  a: AWSDate\n}'
    out = appsync_sdl(sdl)
    assert "scalar AWSDate" not in out
    assert "scalar AWSJSON" not in out
    assert "A JSON value" not in out
    assert "scalar Mine" in out
    assert "a: AWSDate" in out


def test_appsync_schema_differs_from_the_full_one_only_by_appsyncs_declarations() -> None:
    files = export_files()
    full = [block for block in files["schema.graphql"].split("\n\n") if not block.startswith("#")]
    appsync = [block for block in files["appsync.graphql"].split("\n\n") if not block.startswith("#")]
    dropped = [block for block in full if block not in appsync]
    assert len(dropped) == 6
    assert sum("scalar AWS" in block for block in dropped) == 3
    assert sum("directive @aws_" in block for block in dropped) == 3
    assert not [block for block in appsync if block not in full]
