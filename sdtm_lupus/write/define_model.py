"""The metadata a define.xml and Dataset-JSON files are written from: plain data, no lupus knowledge.

sdtm_lupus.describe builds it from specs, study, mapping and the datasets; write/define.py and
write/dataset_json.py turn it into bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Origin:
    type: str
    source: str | None = None
    text: str | None = None          # description (form and column, predecessor, note)


@dataclass
class ItemMeta:
    oid: str
    name: str
    label: str
    data_type: str                   # Define-XML DataType
    length: int | None               # text / integer / float (Num: 8, the XPT storage length)
    significant_digits: int | None = None
    display_format: str | None = None
    codelist: str | None = None      # CodeList OID
    origin: Origin | None = None
    method: str | None = None        # MethodDef OID
    comment: str | None = None       # CommentDef OID
    value_list: str | None = None    # ValueListDef OID
    # ItemRef
    order: int = 0
    key_sequence: int | None = None
    mandatory: bool = False
    role: str | None = None
    xpt_type: str = "Char"           # Char / Num as written to XPT

    @property
    def json_type(self) -> tuple[str, str | None]:
        """(Dataset-JSON dataType, targetDataType)."""
        if self.display_format and self.xpt_type == "Num":
            return "date", "integer"
        return {"text": "string", "integer": "integer", "float": "float", "date": "date",
                "datetime": "datetime"}.get(self.data_type, "string"), None


@dataclass(frozen=True)
class WhereClause:
    oid: str
    item_oid: str                    # the ItemOID of the variable tested (e.g. IT.QS.QSTESTCD)
    value: str


@dataclass
class ValueList:
    oid: str
    items: list[tuple[ItemMeta, WhereClause]]


@dataclass
class DatasetMeta:
    name: str
    oid: str
    label: str
    class_: str
    structure: str
    purpose: str
    repeating: bool
    reference: bool
    file: str                        # XPT file name, e.g. dm.xpt
    domain: str | None
    domain_description: str | None
    records: int
    items: list[ItemMeta]
    value_lists: list[ValueList] = field(default_factory=list)
    comment: str | None = None

    @property
    def leaf(self) -> str:
        return f"LF.{self.name}"

    def item(self, name: str) -> ItemMeta:
        return next(i for i in self.items if i.name == name)


@dataclass(frozen=True)
class Term:
    value: str
    code: str | None
    decode: str | None
    extended: bool = False


@dataclass
class CodeListMeta:
    oid: str
    name: str
    code: str | None                 # NCI code of the codelist (None: sponsor-defined)
    terms: list[Term]
    data_type: str = "text"

    @property
    def decoded(self) -> bool:
        return bool(self.terms) and all(t.decode is not None for t in self.terms)


@dataclass(frozen=True)
class Standard:
    oid: str
    name: str
    type: str
    version: str
    publishing_set: str | None = None


@dataclass(frozen=True)
class TextDef:
    oid: str
    name: str
    type: str
    text: str


@dataclass
class DefineMeta:
    standard: str                    # "sdtm" or "adam"
    study_oid: str
    study_name: str
    study_description: str
    mdv_oid: str
    mdv_name: str
    file_oid: str
    created: str
    standards: list[Standard]
    ig_standard: str                 # StandardOID of the implementation guide
    ct_standard: str
    datasets: list[DatasetMeta]
    codelists: list[CodeListMeta]
    methods: list[TextDef]
    comments: list[TextDef]
    mdv_comment: str | None = None

    def dataset(self, name: str) -> DatasetMeta:
        return next(d for d in self.datasets if d.name == name)
