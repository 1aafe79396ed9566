"""generated/ is committed and must be what the schemas compile to now
(CI fails when it is stale, like a kernel tree's generated headers)."""

from conftest import run_kstate


def test_generated_is_up_to_date():
    res = run_kstate("compile", "--check")
    assert res.returncode == 0, "generated/ is stale; run `kstate compile`:\n" + res.stdout + res.stderr
    assert res.stdout == ""
