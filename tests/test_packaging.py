"""The package as a user installs it: a wheel in a fresh virtual environment finds the
shipped default model and case studies without the repository (data-files under
<prefix>/share/genepheno/assets; genepheno_core.environment.assets_dir)."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
P53_START = ("MEEPQSDPSVEPPLSQETFSDLWKLLPENNVLSPLPSQAMDDLMLSPDDIEQWFTEDPGPDEAPRMPEAAPPVAPAPAAPTPAAPAPAPSWPLSSS"
             "VPSQKTYQGSYGFRLGFLHSGTAKSVTCTYSPALNKMFCQLAKTCPVQLWVDSTPPPGTRVRAMAIYKQSQHMTEVVRRCPHHERCSDSDGLAPP")


@pytest.mark.slow
def test_wheel_in_a_fresh_venv_finds_the_shipped_assets(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w",
                    str(wheels), str(ROOT)], check=True, cwd=tmp_path)
    wheel = next(wheels.glob("genepheno-*.whl"))
    venv = tmp_path / "venv"
    # the dependencies (torch, ...) come from this interpreter's site-packages; genepheno itself
    # only from the wheel (the venv's site-packages come first on sys.path)
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", str(wheel)], check=True)
    script = textwrap.dedent(f"""
        import genepheno_core as gp
        from genepheno_core import environment
        print(gp.__file__)
        print(environment.assets_dir())
        print(gp.default_model_path())
        print(len(gp.load_case_studies()))
        table = gp.predict(None, [("p53", "{P53_START}")], top=3)
        print(len(table), table["score"].between(0, 1).all())
    """)
    env = {k: v for k, v in os.environ.items() if k not in ("GENEPHENO_ASSETS", "GENEPHENO_MODELS_DIR", "PYTHONPATH")}
    env["GENEPHENO_HOME"] = str(tmp_path / "home")
    run = subprocess.run([str(python), "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    module, assets, model, n_cases, predictions = run.stdout.strip().splitlines()[-5:]
    assert module.startswith(str(venv)), module  # imported from the wheel, not the checkout
    assert Path(assets) == venv / "share" / "genepheno" / "assets"
    assert Path(model) == venv / "share" / "genepheno" / "assets" / "models" / "hpo"
    assert int(n_cases) >= 10
    assert predictions == "3 True"
