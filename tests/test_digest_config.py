"""The digest configuration: a valid file loads; every error names the file, line and key."""

from pathlib import Path

import pytest

from service._exceptions import ConfigError
from service.digest.config import SINCE_LAST_RUN, key_lines, load_config
from service.digest.send import resolve

GOOD = """\
state_dir = "state"

[smtp]
host_env = "MAIL_HOST"

[[digest]]
name = "world"
sources = ["news/", "https://example.org/feed.xml"]
recipients = ["ana@example.org", "Ben <ben@example.org>"]

[[digest]]
name = "tech"
sources = ["~/tech"]
recipients = ["ana@example.org"]
window = "36h"
max_stories = 3

[digest.smtp]
host_env = "TECH_HOST"
password_env = "TECH_PASSWORD"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "digest.toml"
    path.write_text(text, encoding="utf-8")
    return path


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as raised:
        load_config(write(tmp_path, text))
    message = str(raised.value)
    assert "\n" not in message
    return message


def test_a_good_file_loads_with_defaults_and_resolved_paths(tmp_path: Path) -> None:
    file = load_config(write(tmp_path, GOOD))
    world, tech = file.digest
    assert world.sources == [str(tmp_path / "news"), "https://example.org/feed.xml"]
    assert tech.sources == [str(Path("~/tech").expanduser())]
    assert (world.window, world.window_hours(), tech.window_hours()) == (SINCE_LAST_RUN, None, 36)
    assert (world.max_stories, world.max_articles_per_story, tech.max_stories) == (10, 8, 3)
    assert file.smtp_for(world).host_env == "MAIL_HOST"
    assert file.smtp_for(tech).password_env == "TECH_PASSWORD"
    assert file.state_dir == tmp_path / "state"
    assert [d.name for d in file.select("tech")] == ["tech"]
    with pytest.raises(ConfigError, match="no digest named 'sport'"):
        file.select("sport")


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            ('"Ben <ben@example.org>"', '"ben at example"'),
            ":9: digest[0].recipients[1]: 'ben at example' is not an email address",
        ),
        (('window = "36h"', 'window = "soon"'), ":15: digest[1].window: 'soon': use"),
        (("max_stories = 3", "max_stories = 0"), ":16: digest[1].max_stories: Input should be"),
        (
            ('password_env = "TECH_PASSWORD"', 'password = "hunter2"'),
            ":20: digest[1].smtp.password",
        ),
        (('name = "tech"\n', ""), ":11: digest[1].name: Field required"),
        (('host_env = "MAIL_HOST"', 'hots_env = "X"'), ":4: smtp.hots_env: unknown key"),
        (('host_env = "MAIL_HOST"', 'host_env = "MAIL HOST"'), ":4: smtp.host_env: the value"),
        (('name = "tech"', 'name = "world"'), "digest.toml: file: digest names must be unique"),
    ],
)
def test_each_error_names_the_line_and_key(
    tmp_path: Path, edit: tuple[str, str], expected: str
) -> None:
    message = error_of(tmp_path, GOOD.replace(*edit))
    assert message.startswith(str(tmp_path / "digest.toml"))
    assert expected in message


def test_a_secret_in_the_file_is_refused_with_the_way_out(tmp_path: Path) -> None:
    message = error_of(tmp_path, GOOD.replace('host_env = "MAIL_HOST"', 'password = "hunter2"'))
    assert "no secret may be in the file" in message
    assert "password_env" in message
    assert "hunter2" not in message


def test_toml_syntax_errors_and_missing_files_are_one_line(tmp_path: Path) -> None:
    assert "line 7" in error_of(tmp_path, GOOD.replace('name = "world"', 'name = "world'))
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "missing.toml")


def test_key_lines_follows_arrays_of_tables_and_dotted_keys() -> None:
    lines = key_lines(GOOD + '[[digest]]\nsmtp.user_env = "U"\n')
    assert lines[("digest", 1, "smtp")] == 18
    assert lines[("digest", 2, "smtp", "user_env")] == 22
    assert lines[("digest", 0, "recipients")] == 9


def test_smtp_settings_come_from_the_named_variables(tmp_path: Path) -> None:
    ref = load_config(write(tmp_path, GOOD)).smtp
    env = {"MAIL_HOST": "mail.example.org", "BRIEF_SMTP_USER": "u", "BRIEF_SMTP_PASSWORD": "pw-42"}
    smtp = resolve(ref, env)
    assert (smtp.host, smtp.port, smtp.security, smtp.user) == (
        "mail.example.org",
        587,
        "starttls",
        "u",
    )
    assert "pw-42" not in repr(smtp)
    assert resolve(ref, {**env, "BRIEF_SMTP_SECURITY": "tls"}).port == 465
    cases: list[tuple[dict[str, str | None], str]] = [
        ({"BRIEF_SMTP_PORT": "http"}, "is not a port number"),
        ({"BRIEF_SMTP_SECURITY": "ssl3"}, "use starttls, tls or none"),
        ({"BRIEF_SMTP_SECURITY": "none"}, "would send the password unencrypted"),
        ({"BRIEF_SMTP_PASSWORD": None}, "BRIEF_SMTP_PASSWORD is not"),
    ]
    for bad, why in cases:
        changed = {k: v for k, v in {**env, **bad}.items() if v is not None}
        with pytest.raises(ConfigError, match=why):
            resolve(ref, changed)


def test_the_readme_sample_config_is_valid(tmp_path: Path) -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    sample = readme.split("## Nightly digest")[1].split("```toml\n")[1].split("```")[0]
    file = load_config(write(tmp_path, sample))
    assert [d.name for d in file.digest] == ["world", "tech"]
    assert file.smtp_for(file.digest[1]).host_env == "TECH_SMTP_HOST"


@pytest.mark.parametrize("padding", [" ", "  \t", "\t ", " \u00a0"], ids=repr)
def test_key_lines_reads_long_runs_of_spaces_in_one_pass(padding: str) -> None:
    """Spaces read before, inside or after a key or a table's name took time growing with the
    run's square or cube: a line of 2,000 spaces took seconds."""
    run = padding * (60_000 // len(padding))
    text = f"a{run}!\n[a{run}!\nwindow{run}= 1\n[ smtp{run}]{run}\nhost_env = 2\n"
    lines = key_lines(text)
    assert lines[("window",)] == 3
    assert lines[("smtp", "host_env")] == 5
