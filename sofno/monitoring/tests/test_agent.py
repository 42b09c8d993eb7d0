import json
import socket
import subprocess
import sys

from sofno.agent.main import Agent, save_config

# What importing the agent adds to sys.modules, apart from the standard library
# and the agent itself (interpreter start-up hooks are there before and ignored).
CHECK = """
import sys
before = set(sys.modules)
import sofno.agent.main, sofno.agent.runner, sofno.agent.ed25519
outside = sorted(
    name for name in set(sys.modules) - before
    if name.split(".")[0] not in sys.stdlib_module_names
    and not (name == "sofno" or name.startswith("sofno.agent"))
)
print(outside)
"""


def test_the_agent_needs_only_the_standard_library():
    done = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_agent_backs_off_and_keeps_trying_when_the_server_is_away(tmp_path):
    path = tmp_path / "agent.json"
    save_config(
        path,
        {
            "server": f"http://127.0.0.1:{closed_port()}",
            "key": "dk_x",
            "device": "d",
            "public_key": "",
            "interval": 10,
        },
    )
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    agent = Agent(path)
    waits = [agent.checkin_once() for _ in range(7)]
    assert all(0.8 * 2**n <= w <= 2**n for n, w in enumerate(waits[:4]))  # 1, 2, 4, 8 s
    assert all(8 <= w <= 10 for w in waits[4:])  # capped at the interval
    assert json.loads(path.read_text())["key"] == "dk_x"
