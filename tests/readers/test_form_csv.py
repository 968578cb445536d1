import pytest

from sdtm_lupus.config.mapping import FormSource
from sdtm_lupus.findings import InputError
from sdtm_lupus.readers.form_csv import read_form_csv
from sdtm_lupus.readers.forms import ROW

COLUMNS = ["STUDYID", "SITEID", "SUBJID", "FOLDER", "AETERM", "AESTDAT"]
HEADER = "STUDYID,SITEID,SUBJID,FOLDER,AETERM,AESTDAT\n"
ROWS = "S1,01,01-0001,,皮疹,05-MAR-2021\nS1,01,01-0002,,Headache,UN-MAR-2021\n"


def read(tmp_path, content, encoding="utf-8", source=None, name="ae.csv", **kwargs):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return read_form_csv(path, "ae", source or FormSource(file=name), COLUMNS, encoding, name, **kwargs)


def fatal(tmp_path, content, **kwargs) -> list:
    with pytest.raises(InputError) as exc:
        read(tmp_path, content, **kwargs)
    return exc.value.findings


def test_utf8_bom_and_gb18030_read_identically(tmp_path):
    text = HEADER + ROWS
    plain, f1 = read(tmp_path, text.encode("utf-8"))
    bom, f2 = read(tmp_path, b"\xef\xbb\xbf" + text.encode("utf-8"))
    gb, f3 = read(tmp_path, text.encode("gb18030"), encoding="gb18030")
    assert f1 == f2 == f3 == []
    assert list(plain.data.columns) == COLUMNS + [ROW]
    assert plain.data["AETERM"].tolist() == ["皮疹", "Headache"]
    assert plain.data["FOLDER"].tolist() == ["", ""]
    assert plain.data[ROW].tolist() == [2, 3]
    assert all(isinstance(v, str) for col in COLUMNS for v in plain.data[col])
    assert plain.file == "ae.csv" and plain.name == "ae"
    for other in (bom, gb):
        assert other.data.equals(plain.data)


def test_gb18030_bytes_read_as_utf8_is_fatal_with_offset_and_line(tmp_path):
    raw = (HEADER + ROWS).encode("gb18030")
    # 皮 is C6 A4 in GB18030, which happens to be valid UTF-8: the first bad byte is 疹's
    offset = raw.index("疹".encode("gb18030"))
    [finding] = fatal(tmp_path, raw)
    assert finding.rule == "READ-ENCODING" and finding.file == "ae.csv" and finding.row == 2
    message = str(InputError([finding]))
    assert "ae.csv" in message and f"byte offset {offset}" in message and "(line 2)" in message
    assert "gb18030" in message.lower()  # hint: the bytes do decode as GB18030


def test_utf8_file_under_gb18030_mapping_is_refused_not_garbled(tmp_path):
    [finding] = fatal(tmp_path, HEADER + ROWS, encoding="gb18030")
    assert finding.rule == "READ-ENCODING"


def test_renamed_columns(tmp_path):
    source = FormSource(file="ae.csv", rename={"AETERM": "Adverse Event", "SUBJID": "Subject"})
    form, findings = read(tmp_path, "STUDYID,SITEID,Subject,FOLDER,Adverse Event,AESTDAT\n"
                          "S1,01,01-0001,,Rash,05-MAR-2021\n", source=source)
    assert findings == []
    assert list(form.data.columns) == COLUMNS + [ROW]
    assert form.data.loc[0, "AETERM"] == "Rash" and form.data.loc[0, "SUBJID"] == "01-0001"


def test_missing_column_is_fatal(tmp_path):
    findings = fatal(tmp_path, "STUDYID,SITEID,SUBJID,FOLDER,AESTDAT,AETERM \nS1,01,01-0001,,x,y\n")
    assert [(f.rule, f.variable, f.file) for f in findings if f.severity == "error"] == \
        [("READ-MISSING-COLUMN", "AETERM", "ae.csv")]
    assert "'AETERM '" in findings[0].message  # near match named


def test_optional_column_absent_is_read_empty_present_is_read(tmp_path):
    columns = COLUMNS + ["AEPTCD"]
    path = tmp_path / "ae.csv"
    path.write_text(HEADER + ROWS, encoding="utf-8")
    form, findings = read_form_csv(path, "ae", FormSource(file="ae.csv"), columns, "utf-8", "ae.csv", optional=["AEPTCD"])
    assert findings == [] and list(form.data.columns) == columns + [ROW]
    assert form.data["AEPTCD"].tolist() == ["", ""]
    path.write_text(HEADER.strip() + ",AEPTCD\n" + "S1,01,01-0001,,Rash,05-MAR-2021,10037844\n", encoding="utf-8")
    form, findings = read_form_csv(path, "ae", FormSource(file="ae.csv"), columns, "utf-8", "ae.csv", optional=["AEPTCD"])
    assert findings == [] and form.data["AEPTCD"].tolist() == ["10037844"]
    with pytest.raises(InputError) as exc:      # not optional: the same file lacking it is refused
        read_form_csv(path, "ae", FormSource(file="ae.csv"),
                      columns + ["AELLTCD"], "utf-8", "ae.csv", optional=["AEPTCD"])
    assert [(f.rule, f.variable) for f in exc.value.findings] == [("READ-MISSING-COLUMN", "AELLTCD")]


def test_extra_column_is_a_warning_and_not_carried(tmp_path):
    form, findings = read(tmp_path, HEADER.strip() + ",NOTE\n" + "S1,01,01-0001,,Rash,05-MAR-2021,hi\n")
    assert [(f.rule, f.severity, f.variable) for f in findings] == [("READ-EXTRA-COLUMN", "warning", "NOTE")]
    assert "not carried over" in findings[0].message
    assert "NOTE" not in form.data.columns
    # a column another form reads from the same file is not "extra"
    _, findings = read(tmp_path, HEADER.strip() + ",NOTE\n", other_columns={"NOTE"})
    assert findings == []


def test_field_count_mismatch_names_line_and_counts(tmp_path):
    [finding] = fatal(tmp_path, HEADER + "S1,01,01-0001,,Rash,05-MAR-2021\nS1,01,01-0002,Rash\n")
    assert (finding.rule, finding.row) == ("READ-FIELD-COUNT", 3)
    assert "4 fields" in finding.message and "header has 6" in finding.message


def test_file_ending_inside_quotes_is_truncated(tmp_path):
    [finding] = fatal(tmp_path, HEADER + 'S1,01,01-0001,,Rash,05-MAR-2021\nS1,01,01-0002,,"Rash on\nthe ar')
    assert (finding.rule, finding.row) == ("READ-TRUNCATED", 3)


def test_last_record_cut_short_without_newline_is_truncated(tmp_path):
    [finding] = fatal(tmp_path, HEADER + "S1,01,01-0001,,Rash,05-MAR-2021\nS1,01,01-00")
    assert (finding.rule, finding.row) == ("READ-TRUNCATED", 3)


def test_missing_final_newline_and_crlf_are_fine(tmp_path):
    form, _ = read(tmp_path, (HEADER + ROWS).replace("\n", "\r\n").rstrip("\r\n"))
    assert form.data["AESTDAT"].tolist() == ["05-MAR-2021", "UN-MAR-2021"]
    assert form.data[ROW].tolist() == [2, 3]


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf", b"\n\n"])
def test_empty_file_is_fatal(tmp_path, content):
    [finding] = fatal(tmp_path, content)
    assert finding.rule == "READ-EMPTY-FILE" and finding.file == "ae.csv"


def test_header_only_gives_empty_form_with_columns(tmp_path):
    form, findings = read(tmp_path, HEADER)
    assert findings == [] and len(form) == 0
    assert list(form.data.columns) == COLUMNS + [ROW]


def test_quoted_newline_keeps_line_numbers_and_values_as_is(tmp_path):
    form, _ = read(tmp_path, HEADER + 'S1,01,01-0001,,"Rash,\non arms",05-MAR-2021\n\n'
                                      "S1,01,01-0002,, Headache ,UN-MAR-2021\n")
    assert form.data["AETERM"].tolist() == ["Rash,\non arms", " Headache "]
    assert form.data[ROW].tolist() == [2, 5]  # record 2 starts after the 2-line record and a blank line


def test_malformed_quoting_is_fatal_with_line(tmp_path):
    [finding] = fatal(tmp_path, HEADER + 'S1,01,01-0001,,"Rash"x,05-MAR-2021\n')
    assert (finding.rule, finding.row) == ("READ-CSV-SYNTAX", 2)


# The fast path (pandas' C parser) must read exactly what the csv module reads, or step aside.
from sdtm_lupus.readers import form_csv  # noqa: E402

SAME_AS_CSV_MODULE = [
    HEADER + ROWS,
    (HEADER + ROWS).replace("\n", "\r\n"),
    HEADER + 'S1,01,01-0001,,"Rash,\non ""both"" arms",05-MAR-2021\nS1,01,"01-0002",,"",UN-MAR-2021\n',
    HEADER + 'S1,01,01-0001,,"a\r\nb\r\nc",05-MAR-2021\r\nS1,01,01-0002,,x,y\r\n',
    '"STUDY\nID",SITEID,SUBJID,FOLDER,AETERM,AESTDAT\nS1,01,01-0001,,"x\n\ny",d\nS1,01,01-0002,,z,d',
    HEADER + 'S1,01,01-0001,,"""quoted""",d\n',
]
FALLS_BACK = [
    HEADER + "S1,01,01-0001,,Rash,05-MAR-2021\n\nS1,01,01-0002,,x,y\n",  # blank line
    HEADER + "S1,01,01-0001,,Rash,05-MAR-2021\n  \n",                    # whitespace-only line
    HEADER + "S1,01,01-0001,,Rash\n",                                    # short record
    HEADER + "S1,01,01-0001,,Rash,d,extra\n",                            # long record
    HEADER + 'S1,01,01-0001,,Ra"sh,d\n',                                 # quote inside unquoted field
    HEADER + 'S1,01,01-0001,,"Rash"x,d\n',                               # text after a closing quote
    HEADER + 'S1,01,01-0001,,"Rash,d\n',                                 # unterminated quote
    HEADER.replace("\n", "\r") + "S1,01,01-0001,,Rash,d\r",              # lone CR line breaks
    "",
]


def _csv_module(text):
    def finding(rule, message, **where):
        raise AssertionError(f"{rule}: {message}")
    return form_csv._parse_csv_module(text, len(text), finding)


@pytest.mark.parametrize("text", SAME_AS_CSV_MODULE)
def test_fast_path_reads_like_the_csv_module(text):
    fast, slow = form_csv._parse_fast(text), _csv_module(text)
    assert fast is not None
    assert fast.header == slow.header and list(fast.starts) == list(slow.starts) and not slow.bad
    for i in range(len(slow.header)):
        assert list(fast.column(i)) == list(slow.column(i))


@pytest.mark.parametrize("text", FALLS_BACK)
def test_fast_path_steps_aside_for_irregular_files(text):
    assert form_csv._parse_fast(text) is None


def test_quoted_line_breaks_give_record_start_lines(tmp_path):
    form, _ = read(tmp_path, HEADER + 'S1,01,01-0001,,"a\nb\nc",d\nS1,01,01-0002,,"e\r\nf",d\nS1,01,01-0003,,g,d\n')
    assert form.data[ROW].tolist() == [2, 5, 7]
    assert form.data["AETERM"].tolist() == ["a\nb\nc", "e\r\nf", "g"]
