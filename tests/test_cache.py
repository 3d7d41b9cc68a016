"""The cache store: any damage (flipped bit, truncation, foreign file, other schema, lost row)
is detected, never trusted, repaired on disk, and costs at most one rebuild."""

import os
import sqlite3
import time

import pytest

from conftest import rlscheck, rlscheck_process
from rlscheck.knowledge import cache
from rlscheck.knowledge import store as kb
from rlscheck.resolve.lookupdb import LookupTable

ARGS = ("assess", "-m", "Paxil", "-c", "pregnant", "--lab", "ferritin=40", "-f", "json")


@pytest.fixture
def store(tmp_path, monkeypatch):
    """An empty cache directory, and a count of knowledge-base and lookup-table builds."""
    monkeypatch.setenv("RLSCHECK_CACHE_DIR", str(tmp_path))
    cache._forget_reader()
    builds = {"kb": 0, "names": 0}
    real_build = kb._build

    def counting_build(paths):
        builds["kb"] += 1
        return real_build(paths)

    monkeypatch.setattr(kb, "_build", counting_build)
    yield tmp_path / cache.FILE_NAME, builds
    cache._forget_reader()


def names_table(builds):
    def rows():
        builds["names"] += 1
        yield from [("zoloft", "sertraline", 1), ("paxil", "paroxetine", 1), ("metformin", "metformin", 0)]
        yield from ((f"name{n:05d}", f"drug{n}", 0) for n in range(3000))

    return LookupTable("names", "1", rows)


def use_everything(builds):
    """One run's worth of use: an assessment, and every lookup-table section."""
    document = rlscheck(*ARGS).json()
    table = names_table(builds)
    found = (table.get("zoloft"), table.get("name02999"), len(table.keys_starting("n")))
    return document, found


@pytest.mark.slow
def test_damage_anywhere_costs_one_rebuild_and_is_repaired(store):
    path, builds = store
    expected = use_everything(builds)
    assert builds == {"kb": 1, "names": 1}
    sound = path.read_bytes()
    step = max(1, len(sound) // 60)
    for position in [0, 16, 18, 28, 60, 99, 100, 1000] + list(range(101, len(sound), step)):
        for bit in (0x01, 0x80):
            damaged = bytearray(sound)
            damaged[position] ^= bit
            path.write_bytes(bytes(damaged))
            cache._forget_reader()
            builds.update(kb=0, names=0)
            assert use_everything(builds) == expected, position
            assert builds["kb"] <= 1 and builds["names"] <= 1, (position, builds)
            cache._forget_reader()
            builds.update(kb=0, names=0)
            assert use_everything(builds) == expected, position
            assert builds == {"kb": 0, "names": 0}, (position, "damage survived a rebuild")


@pytest.mark.parametrize("damage", ["truncated", "half", "empty", "junk", "foreign-db", "other-schema",
                                    "lost-row", "lost-header", "swapped-rows"])
def test_truncated_foreign_or_altered_store_is_rebuilt_once(store, damage):
    path, builds = store
    expected = use_everything(builds)
    sound = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(sound[:100])
    elif damage == "half":
        path.write_bytes(sound[: len(sound) // 2])
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "junk":
        path.write_bytes(b"\xe3" + b"junk" * 1000)
    else:
        connection = sqlite3.connect(path)
        with connection:
            if damage == "foreign-db":
                connection.execute("DROP TABLE sections")
                connection.execute("CREATE TABLE sections (x)")
            elif damage == "other-schema":
                connection.execute("PRAGMA user_version = 99")
            elif damage == "lost-row":
                connection.execute("DELETE FROM sections WHERE name LIKE 'entries:%' OR name LIKE 'pa'")
            elif damage == "lost-header":
                connection.execute("DELETE FROM sections WHERE name = ''")
            elif damage == "swapped-rows":  # each row sound, but under another's name
                rows = connection.execute("SELECT owner, name, data FROM sections WHERE name LIKE 'entries:%'"
                                          " OR name LIKE 'na%'").fetchall()
                for (owner, name, _), (_, _, data) in zip(rows, rows[1:] + rows[:1]):
                    connection.execute("UPDATE sections SET data = ? WHERE owner = ? AND name = ?", (data, owner, name))
        connection.close()
    for _ in range(2):  # the first run rebuilds (at most once each), the second reads
        cache._forget_reader()
        builds.update(kb=0, names=0)
        assert use_everything(builds) == expected
        assert builds["kb"] <= 1 and builds["names"] <= 1
    assert builds == {"kb": 0, "names": 0}


def test_a_sound_store_is_read_not_rewritten(store):
    path, builds = store
    use_everything(builds)
    before = path.read_bytes()
    cache._forget_reader()
    use_everything(builds)
    assert path.read_bytes() == before and builds == {"kb": 1, "names": 1}


def test_damaged_store_in_a_real_process_is_repaired(tmp_path):
    env = {"RLSCHECK_CACHE_DIR": str(tmp_path)}
    first = rlscheck_process(*ARGS, env=env)
    assert first.exit_code == 0
    store_file = tmp_path / cache.FILE_NAME
    data = bytearray(store_file.read_bytes())
    for position in range(4096 + 50, len(data), 4096):  # one flipped bit in every page
        data[position] ^= 0x10
    store_file.write_bytes(bytes(data))
    for _ in range(2):
        again = rlscheck_process(*ARGS, env=env)
        assert again.exit_code == 0 and again.stdout == first.stdout and not again.stderr


def test_unwritable_cache_directory_only_costs_speed(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("RLSCHECK_CACHE_DIR", str(blocker / "cache"))
    cache._forget_reader()
    assert rlscheck(*ARGS).json()["findings"]
    assert names_table({"names": 0}).get("paxil") == ("paroxetine", 1)
    cache._forget_reader()


def test_writing_a_store_clears_month_old_owners_of_the_same_kind_only(store):
    path, builds = store
    cache.write_owner("kb", "old key", {"meta": 1})
    cache.write_owner("names", "old names", {"a": 1})
    connection = sqlite3.connect(path)
    with connection:
        connection.execute("UPDATE sections SET stamp = 0")
    connection.close()
    legacy, recent = path.parent / "kb-0000000000000000.marshal", path.parent / "icd10cm-2-1.sqlite"
    for old in (legacy, recent):
        old.write_bytes(b"x")
    os.utime(legacy, (0, 0))
    cache._forget_reader()
    rlscheck(*ARGS)
    owners = {row[0] for row in sqlite3.connect(path).execute("SELECT owner FROM sections")}
    assert cache.owner_id("kb", "old key") not in owners  # a month old, same kind: removed
    assert cache.owner_id("names", "old names") in owners  # another kind: kept
    assert not legacy.exists() and recent.exists()


def test_the_store_holds_plain_data_only(store):
    path, builds = store
    use_everything(builds)
    import marshal

    def plain(value):
        if isinstance(value, (dict,)):
            return all(isinstance(k, str) and plain(v) for k, v in value.items())
        if isinstance(value, (list, tuple)):
            return all(plain(v) for v in value)
        return value is None or isinstance(value, (str, int, float, bool))

    for (data,) in sqlite3.connect(path).execute("SELECT data FROM sections"):
        assert plain(marshal.loads(data))


def test_knowledge_base_load_from_a_warm_store_reads_little(store):
    path, builds = store
    kb.load()
    cache._forget_reader()
    started = time.perf_counter()
    loaded = kb.load()
    assert loaded.disclaimer and builds["kb"] == 1
    assert time.perf_counter() - started < 5  # generous for a busy machine; the checks above say nothing was rebuilt
