"""bench.drain_time counts a drain's statements by kind, an executemany as one."""

from bench.drain_time import count_kinds, statement_kind


def test_statements_are_counted_by_their_first_keyword():
    assert statement_kind('SELECT "x" FROM t') == "SELECT"
    assert statement_kind('SAVEPOINT "s1_x"') == "SAVEPOINT"
    assert statement_kind("  (SELECT 1) UNION (SELECT 2)") == "SELECT"


def test_an_executemany_is_one_statement_of_its_kind():
    kinds = count_kinds(["20 times: INSERT INTO t VALUES (%s)", "INSERT INTO t VALUES (1)"])
    assert kinds == {"INSERT (many)": 1, "INSERT": 1}
