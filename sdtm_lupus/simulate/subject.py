"""One simulated subject: a clinical course, then its rows on every form.

Everything is drawn from one random.Random seeded by (study, seed, SUBJID), so a subject's
data do not depend on how many others are simulated. Only +, -, *, / and comparisons touch
floats (no libm), so the output is the same on every platform.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date

from sdtm_lupus.config.study import Study
from sdtm_lupus.simulate import knowledge as K
from sdtm_lupus.specs import lab_unit_factors, sledai_weights

LOCKDOWN = (date(2022, 4, 1).toordinal(), date(2022, 5, 31).toordinal())   # Shanghai, visits disrupted
RESCORED = ("RASH", "ALOPECIA", "MUCOSAL", "ARTHRIT")   # descriptors a re-assessment may change
DATE_COLUMN = {"dosing": "EXSTDAT", "sledai": "ASSESSDAT", "bilag": "ASSESSDAT", "pga": "ASSESSDAT",
               "flare": "ASSESSDAT", "lab": "LBDAT"}

_DATES: dict[int, str] = {}


def fmt_date(day: int) -> str:
    text = _DATES.get(day)
    if text is None:
        d = date.fromordinal(day)
        text = _DATES[day] = f"{d.day:02d}-{K.MONTHS[d.month - 1]}-{d.year}"
    return text


def fmt_partial(day: int, unknown: str | None) -> str:
    """unknown: None (full date), "day" (UN-MAR-2021), "month" (UN-UNK-1985), "all" (UN-UNK-UNKN)."""
    if unknown is None:
        return fmt_date(day)
    d = date.fromordinal(day)
    return {"day": f"UN-{K.MONTHS[d.month - 1]}-{d.year}", "month": f"UN-UNK-{d.year}",
            "all": "UN-UNK-UNKN"}[unknown]


def fmt_num(x: float) -> str:
    """Shortest plain decimal: 10, 7.5, 0.25."""
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return text or "0"


def fmt_time(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def by_arm(table: dict[str, float], armcd: str) -> float:
    """A profile parameter for an arm; an arm the profile does not know gets the first value."""
    return table.get(armcd, next(iter(table.values())))


@dataclass(frozen=True)
class Skeleton:
    """What the study-level draw decides about a subject before its own course is simulated."""
    subjid: str
    siteid: str
    day1: int                    # first infusion (planned, for screen failures)
    armcd: str | None            # None: screen failure
    randno: str
    primary_lab: int             # 0: LAB_A, 1: LAB_B
    dropout: tuple[str, bool] | None   # (DSDECOD_SITE, ET visit held)
    flags: frozenset[str]        # awkward cases forced on this subject
    needs_chinese_ae: bool = False


@dataclass
class Mark:
    """A planted case or defect: where it sits is resolved when the row is written."""
    kind: str
    form: str
    row: list[str]
    column: str | None
    note: str
    defect: bool = False


@dataclass
class SubjectRows:
    subjid: str
    siteid: str
    rows: dict[str, list[list[str]]]
    marks: list[Mark] = field(default_factory=list)
    visit_dates: dict[str, int] = field(default_factory=dict)   # scheduled folder -> date
    day1: int | None = None


class CaseLog:
    """Counts every awkward case. Frequent kinds keep one located example per variant
    (e.g. qualifier "<", ">", NEG, POS, TRACE), the rare kinds every occurrence."""
    FREQUENT = ("partial-date", "chinese-text", "qualifier", "mixed-units", "given-no")

    def __init__(self):
        self.counts: dict[str, int] = {}
        self.seen: set[tuple[str, str]] = set()

    def want(self, kind: str, variant: str = "") -> bool:
        """Count one occurrence; True when it should also be located (a Mark)."""
        self.counts[kind] = self.counts.get(kind, 0) + 1
        if kind not in self.FREQUENT:
            return True
        if (kind, variant) in self.seen:
            return False
        self.seen.add((kind, variant))
        return True


@dataclass
class _Visit:
    folder: str
    date: int
    target: int | None = None            # target study day (scheduled visits)
    window: tuple[int, int] = (0, 0)
    assess: bool = True
    dose: bool = False
    snap: dict | None = None
    reported: list = field(default_factory=list)   # flares first reported at this visit


@dataclass
class _Flare:
    date: int
    severe: bool
    kind: K.FlareType
    hosp: bool


class SubjectSim:
    def __init__(self, study: Study, profile: K.Profile, sk: Skeleton, seed: int,
                 columns: dict[str, list[str]], log: CaseLog):
        self.study, self.p, self.sk, self.cols, self.log = study, profile, sk, columns, log
        self.r = random.Random(f"{study.studyid}|{seed}|{sk.subjid}")
        self.arm = study.arm(sk.armcd) if sk.armcd else None
        self.out = SubjectRows(sk.subjid, sk.siteid, {f: [] for f in study.forms})
        self.active: dict[str, tuple[str, int]] = {}   # descriptor -> (origin, since)
        self.severe_systems: dict[str, int] = {}      # BILAG system graded A -> since
        self.history: set[str] = set()
        self.boost = 0.0
        self.flares: list[_Flare] = []
        self.aes: list[dict] = []
        self.meds: list[dict] = []
        self.pred: list[tuple[int, float, str]] = []   # (from date, prednisone-eq mg/day, indication)
        self.on_hcq = self.on_is = None

    # ---- small helpers -------------------------------------------------------------------
    def u(self, lo: float, hi: float) -> float:
        return lo + (hi - lo) * self.r.random()

    def chance(self, p: float) -> bool:
        return self.r.random() < p

    def pick(self, weighted):
        """Choose from ((weight, value...), ...); returns the tuple without its weight."""
        total = sum(w[0] for w in weighted)
        x = self.r.random() * total
        for item in weighted:
            x -= item[0]
            if x < 0:
                return item[1] if len(item) == 2 else item[1:]
        return weighted[-1][1] if len(weighted[-1]) == 2 else weighted[-1][1:]

    def row(self, form: str, values: dict[str, str], folder: str = "") -> list[str]:
        cells = [self.study.studyid, self.sk.siteid, self.sk.subjid, folder,
                 *(values.get(c, "") for c in self.cols[form][4:])]
        self.out.rows[form].append(cells)
        return cells

    def mark(self, kind: str, form: str, row: list[str], column: str | None, note: str, variant: str = "") -> None:
        if self.log.want(kind, variant):
            self.out.marks.append(Mark(kind, form, row, column, note))

    def has(self, form: str) -> bool:
        return form in self.out.rows

    # ---- the subject ---------------------------------------------------------------------
    def run(self) -> SubjectRows:
        self.demographics()
        visits = self.schedule()
        self.baseline_meds()
        self.course(visits)
        self.later_meds()
        if self.arm:
            self.background_aes()
        self.write_enrol()
        self.write_visits(visits)
        self.write_cm()
        self.write_ae()
        self.write_disp(visits)
        self.out.day1 = self.sk.day1 if self.arm else None
        return self.out

    def demographics(self) -> None:
        r, sk = self.r, self.sk
        self.female = self.chance(.9)
        # study day -28..-15: inside the SCREENING window read either as days around its
        # target (-14 + [-28, -1]) or as study days
        self.screen = sk.day1 - r.randint(15, 28)
        self.consent = self.screen - (r.randint(0, 3) if self.chance(.4) else 0)
        age = int(self.u(18, 58)) if self.chance(.85) else int(self.u(58, 70))
        self.birth = self.consent - int(age * 365.25) - r.randint(1, 360)
        b, c = date.fromordinal(self.birth), date.fromordinal(self.consent)
        self.age = c.year - b.year - ((c.month, c.day) < (b.month, b.day))
        self.diag = self.consent - int(self.u(.5, min(20, self.age - 12)) * 365.25)
        self.height = self.u(150, 170) if self.female else self.u(162, 182)
        bmi = self.u(17.5, 27.5)
        self.weight = bmi * self.height * self.height / 10000
        self.weight0 = self.weight
        self.b_cells = (self.u(6, 18), self.u(6, 16))   # CD19+ %, non-switched memory %
        self.zh_cm = self.chance(.3)                     # this site coordinator writes Chinese names

    def schedule(self) -> list[_Visit]:
        """Scheduled visits with dates (jitter, lockdown, missed visits), cut at dropout."""
        r, sk, study = self.r, self.sk, self.study
        out: list[_Visit] = []
        for cfg in study.visits:
            lo, hi = cfg.window
            if cfg.target_day < 1:           # screening: day = date - day1 (no day 0)
                if not out:
                    out.append(_Visit(cfg.folder, self.screen, cfg.target_day, cfg.window))
                continue
            if not self.arm:
                break
            offset = r.randint(lo // 2, hi // 2) if self.chance(.88) else r.randint(lo, hi)
            day = sk.day1 + cfg.target_day - 1 + offset
            post = cfg.target_day > 1
            last = cfg is study.visits[-1]
            if post and not last and LOCKDOWN[0] <= day <= LOCKDOWN[1]:
                if self.chance(.3):
                    continue                 # missed: site closed
                if self.chance(.6):
                    day = sk.day1 + cfg.target_day - 1 + hi + r.randint(3, 10)
            elif post and not last and self.chance(.015):
                continue
            out.append(_Visit(cfg.folder, day, cfg.target_day, cfg.window, cfg.assessments,
                              cfg.folder in study.dosing_folders))
        if not self.arm:
            self.stop = self.screen
            return out
        if "out-of-window" in sk.flags:
            movable = [v for v in out[2:-1] if v.window[1] >= 7]
            if movable:
                v = r.choice(movable)
                late = self.chance(.6)
                v.date = sk.day1 + v.target - 1 + (v.window[1] + r.randint(1, 5) if late
                                                   else v.window[0] - r.randint(1, 5))
        for prev, v in zip(out, out[1:]):    # keep visits in order, three days apart at least
            v.date = max(v.date, prev.date + 3)
        if sk.dropout:
            reason, et = sk.dropout
            j = r.randint(1, max(1, len(out) - 2))   # last attended scheduled visit
            gap = out[j + 1].date - out[j].date if j + 1 < len(out) else 28
            self.stop = out[j].date + r.randint(5, max(6, gap + 7))
            del out[j + 1:]
            if et:
                out.append(_Visit(study.early_termination.folder, self.stop))
        else:
            self.stop = out[-1].date
        return out

    # ---- disease course --------------------------------------------------------------------
    def baseline_state(self) -> None:
        activity = self.p.activity
        for _ in range(200):
            items = set(self.pick(K.BASELINE_PATTERNS[activity]))
            items |= {s for s in K.SEROLOGY if self.chance(K.SEROLOGY_RATE[activity])}
            self.active = {i: ("base", self.sk.day1 - 400) for i in sorted(items)}
            if (self.total() <= 6 and self.grades().count("B") <= 1) if activity == "low" else self.total() >= 6:
                break
        self.history = {K.SYSTEM_OF[i] for i in items if i in K.SYSTEM_OF}
        self.history |= {s for s, p in K.BILAG_HISTORY.items() if self.chance(p)}

    def total(self, items=None) -> int:
        return sum(sledai_weights()[i] for i in (self.active if items is None else items))

    def grades(self) -> list[str]:
        out = []
        for system, items in K.BILAG_ITEMS.items():
            act = [i for i in items if i in self.active]
            if system in self.severe_systems:
                out.append("A")
            elif act:
                out.append("B" if len(act) >= 2 or max(sledai_weights()[i] for i in act) >= 4 else "C")
            else:
                out.append("D" if system in self.history else "E")
        return out

    def snapshot(self) -> dict:
        clinical = sum(sledai_weights()[i] for i in self.active if i not in K.SEROLOGY)
        serology = sum(1 for i in K.SEROLOGY if i in self.active)
        pga = .2 + .1 * clinical + .1 * serology + self.boost + self.u(-.2, .2)
        return {"items": frozenset(self.active), "grades": self.grades(),
                "pga10": max(0, min(30, int(pga * 10 + .5))), "severe": frozenset(self.severe_systems)}

    def evolve(self, start: int, end: int) -> None:
        """Descriptors resolve (faster on belimumab), small ones come and go, over [start, end]."""
        arm, f = self.sk.armcd, (end - start) / 28
        for item, (origin, since) in sorted(self.active.items()):
            if end - since < 21:
                continue
            p = by_arm(self.p.serology_clears if item in K.SEROLOGY else self.p.resolve, arm)
            if origin == "severe":
                p *= .8
            if self.chance(min(.9, p * f)):
                del self.active[item]
        if self.chance(.03 * f):
            self.add(self.r.choice(K.MINOR_ITEMS), "minor", end)
        for s in K.SEROLOGY:
            if s not in self.active and self.chance(.01 * f):
                self.add(s, "minor", end)
        # grade A lasts while the severe flare is under six weeks old and still active
        self.severe_systems = {s: since for s, since in self.severe_systems.items() if end - since < 42 and any(
            self.active.get(i, ("",))[0] == "severe" for i in K.BILAG_ITEMS[s])}
        for _ in range(int(f * 2 + .5)):
            self.boost *= .7

    def add(self, item: str, origin: str, day: int) -> None:
        if item not in self.active or origin == "severe":
            self.active[item] = (origin, day)
        if item in K.SYSTEM_OF:
            self.history.add(K.SYSTEM_OF[item])

    def dose_on(self, day: int) -> float:
        dose = 0.0
        for start, mg, _ in self.pred:
            if start <= day:
                dose = mg
        return dose

    def set_dose(self, day: int, mg: float, indication: str) -> None:
        if mg != self.dose_on(day):
            self.pred = [p for p in self.pred if p[0] < day] + [(day, mg, indication)]

    def course(self, visits: list[_Visit]) -> None:
        r, sk = self.r, self.sk
        self.baseline_state()
        self.pred = [(max(self.diag, self.consent - r.randint(60, 900)), float(r.choice(self.p.pred_start)), "SLE")]
        if not self.arm:                      # screen failure: screening data only
            if self.p.activity == "low" and self.chance(.5):
                self.active.update({"ARTHRIT": ("base", 0), "RASH": ("base", 0), "PROTEIN": ("base", 0)})
            visits[0].snap = self.snapshot()
            return
        # Screening differs a little from day 1 (a descriptor may come or go).
        screening_items = dict(self.active)
        if self.chance(.2) and self.active:
            self.active.pop(sorted(self.active)[0])
            if self.p.activity == "active" and self.total() < 6:   # still eligible at screening
                self.active = dict(screening_items)
        visits[0].snap = self.snapshot()
        self.active = screening_items
        visits[1].snap = self.snapshot()
        prev, prev_assess = visits[1], visits[1]
        forced_unscheduled = "unscheduled" in sk.flags
        loe = sk.dropout and sk.dropout[0] == "Lack of efficacy"
        extra: list[_Visit] = []
        for v in visits[2:]:
            start = prev.date
            days = v.date - start
            is_last = v is visits[-1]
            rate = by_arm(self.p.flare_rate, sk.armcd) * days / 28
            if days >= 4 and (self.chance(rate) or (loe and is_last)):
                fday = start + r.randint(1, days - 2)
                self.evolve(start, fday)
                flare = self.flare(fday, severe=self.chance(.2))
                start = fday
                seen = fday + r.randint(0, 3)
                if seen < v.date - 1 and self.chance(.8 if flare.severe else .5):
                    u = _Visit(self.study.unscheduled_folder, seen)
                    self.treat(flare, seen)
                    u.snap, u.reported = self.snapshot(), self.reported(prev_assess.date, seen)
                    extra.append(u)
                    prev_assess, start = u, seen
                    forced_unscheduled = False
                else:
                    self.treat(flare, fday + r.randint(0, 2))
            elif forced_unscheduled and days >= 20 and not is_last:
                u = _Visit(self.study.unscheduled_folder, start + days // 2)
                self.evolve(start, u.date)
                u.snap, u.reported = self.snapshot(), self.reported(prev_assess.date, u.date)
                extra.append(u)
                prev_assess, start, forced_unscheduled = u, u.date, False
            self.evolve(start, v.date)
            if v.assess:
                dose = self.dose_on(v.date)
                speed = 3 if dose >= 30 else 2 if dose > 15 else 1   # high doses come down fast
                if v.target and not self.flare_since(v.date - 28) and self.chance(
                        min(.9, by_arm(self.p.taper, sk.armcd) * speed)):
                    self.taper(v.date)
                v.snap = self.snapshot()
                v.reported = self.reported(prev_assess.date, v.date)
                prev_assess = v
            prev = v
        visits.extend(extra)
        visits.sort(key=lambda x: x.date)

    def flare_since(self, day: int) -> bool:
        return any(f.date > day for f in self.flares)

    def flare(self, day: int, severe: bool) -> _Flare:
        kind = self.pick([(t.weight, t) for t in (K.SEVERE_FLARES if severe else K.MILD_FLARES)])
        for item in kind.items:
            self.add(item, "severe" if severe else "mild", day)
        if self.chance(.5):
            self.add(self.r.choice(K.SEROLOGY), "mild", day)
        if kind.system_a:
            self.severe_systems[kind.system_a] = day
        self.boost = 1.0 if severe else .7
        flare = _Flare(day, severe, kind, severe and self.chance(.6))
        self.flares.append(flare)
        if kind.ae and (severe or self.chance(.6)):
            term = K.AE_TERMS[kind.ae]
            grade = 3 if severe else self.r.choice((1, 2))
            self.aes.append({"term": kind.ae, "start": day, "grade": grade, "sle": True,
                             "ser": flare.hosp or grade >= 3, "hosp": flare.hosp,
                             "end": day + self.r.randint(*term.days)})
        return flare

    def treat(self, flare: _Flare, day: int) -> None:
        """Glucocorticoids up (a methylprednisolone pulse when severe), more drugs."""
        r, current = self.r, self.dose_on(day)
        if flare.severe:
            pulses = r.randint(1, 3)
            for k in range(pulses):
                self.meds.append(self.med(r.choice(K.PULSE), "GLUCOCORTICOID", "500", "ONCE", "Intravenous",
                                          day + k, day + k, "SLE flare"))
            target = max(30.0, .6 * self.weight)
            self.set_dose(day + pulses, next(x for x in K.PRED_LADDER if x >= target or x == 60), "SLE flare")
            if flare.kind.system_a == "RENAL" and self.on_is != "Mycophenolate mofetil":
                self.start_drug(K.MMF_NEPHRITIS, day + pulses, "Lupus nephritis")
            elif not self.on_is and self.chance(.4):
                self.start_drug(K.IMMUNOSUPPRESSANTS[1][1], day + pulses, "SLE")
            return
        cap = .5 * self.weight
        up = [x for x in K.PRED_LADDER if current < x <= cap and x >= 10]
        if up:
            self.set_dose(day, up[min(len(up) - 1, r.randint(0, 1))], "SLE flare")
        if "ARTHRIT" in flare.kind.items and self.chance(.4):
            dose, frq, route = r.choice(K.NSAID_ARTHRITIS.regimens)
            self.meds.append(self.med(K.NSAID_ARTHRITIS.names[0], "NSAID", dose, frq, route, day,
                                      day + r.randint(14, 28), "SLE"))
        if not self.on_hcq and self.chance(.5):
            self.start_drug(K.HCQ, day, "SLE")

    def taper(self, day: int) -> None:
        current = self.dose_on(day)
        lower = [x for x in K.PRED_LADDER if x < current]
        if lower:
            self.set_dose(day, lower[-2] if current >= 40 and len(lower) > 1 else lower[-1], "SLE")

    def reported(self, prev: int, day: int) -> list[_Flare]:
        return [f for f in self.flares if prev < f.date <= day]

    # ---- medications ---------------------------------------------------------------------
    def med(self, trt, cmclass, dose, frq, route, start, end, indc, unknown=None, end_unknown=None) -> dict:
        return {"CMTRT": trt, "CMCLASS": cmclass, "CMDOSE": dose, "CMDOSU": "mg", "CMDOSFRQ": frq,
                "CMROUTE": route, "start": start, "end": end, "unknown": unknown, "end_unknown": end_unknown,
                "CMINDC": indc}

    def verbatim(self, med: K.Med) -> str:
        return med.names[-1] if self.zh_cm and len(med.names) > 1 else med.names[0]

    def start_drug(self, med: K.Med, day: int, indc: str, end: int | None = None) -> None:
        dose, frq, route = self.r.choice(med.regimens)
        self.meds.append(self.med(self.verbatim(med), med.cmclass, dose, frq, route, day, end, indc))
        if med.cmclass == "ANTIMALARIAL":
            self.on_hcq = True
        else:
            self.on_is = med.names[0]

    def prior_start(self) -> tuple[int, str | None]:
        """A start before consent, often partial."""
        day = self.r.randint(self.diag, self.consent - 30) if self.consent - 30 > self.diag else self.diag
        return day, self.pick(((30, None), (45, "day"), (23, "month"), (2, "all")))

    def baseline_meds(self) -> None:
        """Hydroxychloroquine, immunosuppressant, antihypertensive taken since before consent."""
        r = self.r
        if self.chance(.85):
            day, unknown = self.prior_start()
            dose, frq, route = r.choice(K.HCQ.regimens)
            med = self.med(self.verbatim(K.HCQ), "ANTIMALARIAL", dose, frq, route, day, None, "SLE", unknown)
            self.meds.append(med)
            self.on_hcq = True
            stop = self.sk.day1 + r.randint(30, 200)
            if self.arm and stop < self.stop and self.chance(.12):   # stopped, sometimes restarted
                med["end"], med["end_unknown"] = stop, ("day" if self.chance(.3) else None)
                restart = stop + r.randint(60, 120)
                if restart < self.stop and self.chance(.5):
                    self.meds.append(self.med(self.verbatim(K.HCQ), "ANTIMALARIAL", dose, frq, route,
                                              restart, None, "SLE"))
        if self.chance(.4):
            drug = self.pick(K.IMMUNOSUPPRESSANTS)
            day, unknown = self.prior_start()
            dose, frq, route = r.choice(drug.regimens)
            self.meds.append(self.med(self.verbatim(drug), drug.cmclass, dose, frq, route, day, None, "SLE",
                                      unknown))
            self.on_is = drug.names[0]
        if self.chance(.15):
            day, unknown = self.prior_start()
            dose, frq, route = r.choice(K.AMLODIPINE.regimens)
            self.meds.append(self.med("Amlodipine", "OTHER", dose, frq, route, day, None, "Hypertension", unknown))

    def later_meds(self) -> None:
        r = self.r
        if self.arm and self.chance(.15):
            day = self.sk.day1 + r.randint(5, max(6, self.stop - self.sk.day1))
            dose, frq, route = r.choice(K.NSAID_HEADACHE.regimens)
            self.meds.append(self.med("Ibuprofen", "NSAID", dose, frq, route, day, day + r.randint(1, 5),
                                      "Headache"))
        self.steroid_records()

    def steroid_records(self) -> None:
        """The daily prednisone-equivalent course as one CM record per dose period."""
        name, factor, other = self.pick(K.GLUCOCORTICOIDS)
        qod = self.chance(.05)
        for k, (start, mg, indc) in enumerate(self.pred):
            if self.arm is None and k > 0:
                break
            end = self.pred[k + 1][0] - 1 if k + 1 < len(self.pred) else None
            if mg == 0:
                continue
            daily = mg / factor
            if qod and mg <= 15:
                dose, frq = daily * 2, "QOD"
            elif mg >= 30 and self.chance(.3):
                dose, frq = daily / 2, "BID"
            else:
                dose, frq = daily, "QD"
            unknown = None
            if k == 0:
                unknown = self.pick(((30, None), (45, "day"), (25, "month")))
            trt = other if self.chance(.15) else name
            self.meds.append(self.med(trt, "GLUCOCORTICOID", fmt_num(dose), frq, "Oral", start, end, indc, unknown))

    # ---- adverse events --------------------------------------------------------------------
    def background_aes(self) -> None:
        r, sk = self.r, self.sk
        day = sk.day1
        while day < self.stop:
            if self.chance(.18):
                start = day + r.randint(0, 27)
                if start <= self.stop:
                    key = self.pick(K.BACKGROUND_AES)
                    term = K.AE_TERMS[key]
                    grade = self.pick(tuple(zip(term.grades, (1, 2, 3, 4))))
                    ser = grade >= 3 and self.chance(.8)
                    self.aes.append({"term": key, "start": start, "grade": grade, "sle": False, "ser": ser,
                                     "hosp": ser and self.chance(.9), "end": start + r.randint(*term.days)})
            day += 28
        if sk.dropout and sk.dropout[0] == "Adverse event":
            key = r.choice(K.DROPOUT_AES)
            self.aes.append({"term": key, "start": self.stop - r.randint(0, 4), "grade": 3, "sle": False,
                             "ser": True, "hosp": key == "pneumonia", "acn": "Drug withdrawn",
                             "end": self.stop + r.randint(*K.AE_TERMS[key].days)})
        if sk.dropout and sk.dropout[0] == "Death":
            self.aes.append({"term": "sepsis", "start": self.stop - r.randint(3, 10), "grade": 5, "sle": False,
                             "ser": True, "hosp": True, "end": self.stop, "out": "Fatal", "acn": "Not applicable"})
        if (sk.needs_chinese_ae or "chinese-text" in sk.flags) and not self.aes:
            self.aes.append({"term": "arthralgia", "start": sk.day1 + 10, "grade": 1, "sle": False,
                             "ser": False, "hosp": False, "end": sk.day1 + 17})
        self.aes.sort(key=lambda a: a["start"])

    def infection_on(self, day: int) -> dict | None:
        for ae in self.aes:
            if K.AE_TERMS[ae["term"]].infection and ae["grade"] >= 2 and ae["start"] <= day <= ae["end"]:
                return ae
        return None

    # ---- rows ----------------------------------------------------------------------------
    def write_enrol(self) -> None:
        sk = self.sk
        birth_unknown = self.pick(((94, None), (3, "day"), (3, "month")))
        age = self.age
        if "age-mismatch" in sk.flags:
            birth_unknown, age = None, age + 10 if age < 50 else age - 10
        diag_unknown = self.pick(((60, None), (30, "day"), (10, "month")))
        row = self.row("enrol", {
            "CONSDAT": fmt_date(self.consent), "BRTHDAT": fmt_partial(self.birth, birth_unknown), "AGE": str(age),
            "SEX": "Female" if self.female else "Male",
            "RACE": self.pick(((97, "Asian"), (1, "Other"), (2, "Not reported"))),
            "ETHNIC": self.pick(((95, "Not Hispanic or Latino"), (5, "Not reported"))), "COUNTRY": "CHN",
            "DIAGDAT": fmt_partial(self.diag, diag_unknown), "HEIGHT_CM": f"{self.height:.0f}",
            "WEIGHT_KG": f"{self.weight0:.1f}", "RANDNO": sk.randno if self.arm else "",
            "ARMCD_RAND": sk.armcd or "", "ELIGIBLE": "Yes" if self.arm else "No"})
        if birth_unknown:
            self.mark("partial-date", "enrol", row, "BRTHDAT", "partial birth date", f"BRTHDAT {birth_unknown}")
        if diag_unknown:
            self.mark("partial-date", "enrol", row, "DIAGDAT", "partial diagnosis date", f"DIAGDAT {diag_unknown}")
        if "age-mismatch" in sk.flags:
            self.mark("age-mismatch", "enrol", row, "AGE", f"AGE {age}, BRTHDAT gives {self.age}")
        if not self.arm:
            self.mark("screen-failure", "enrol", row, "ELIGIBLE", "screen failure: screening data only")

    def write_visits(self, visits: list[_Visit]) -> None:
        sk, r = self.sk, self.r
        self.last_dose = None
        unscheduled = self.study.unscheduled_folder
        scheduled = [v for v in visits if v.target is not None]
        reassess = None
        if "reassessment" in sk.flags:
            candidates = [v for v in scheduled[2:-1] if v.assess]
            reassess = r.choice(candidates) if candidates else None
        sitetot = None
        if "site-total" in sk.flags:
            candidates = [v for v in visits if v.snap]
            sitetot = r.choice(candidates[1:] or candidates)
        disagree = None
        if "flare-disagreement" in sk.flags and self.has("flare"):
            candidates = [v for v in visits[2:] if v.snap]
            disagree = r.choice(candidates) if candidates else None
        for i, v in enumerate(visits):
            if v.target is not None:
                self.out.visit_dates[v.folder] = v.date
            first = None
            if v.dose:
                first = self.write_dosing(v)
            if v.snap:
                first = self.write_assessment(v, v is sitetot, v is disagree, i) or first
                if v is reassess:
                    self.write_reassessment(v, visits[i + 1].date if i + 1 < len(visits) else v.date + 7)
                self.write_labs(v)
            if v.folder == unscheduled and first is not None:
                why = "flare assessment" if v.reported else "symptom review"
                self.mark("unscheduled", "sledai", first, "ASSESSDAT", f"UNSCHEDULED visit ({why})")
            if v.target is not None and first is not None and v.target != 1:
                study_day = v.date - sk.day1 + (1 if v.date >= sk.day1 else 0)
                lo, hi = v.target + v.window[0], v.target + v.window[1]
                if not lo <= study_day <= hi and self.arm:
                    form = "sledai" if v.snap else "dosing"
                    self.mark("out-of-window", form, first, DATE_COLUMN[form],
                              f"{v.folder} on study day {study_day}, window {lo}..{hi}")

    def write_dosing(self, v: _Visit) -> list[str]:
        r, arm = self.r, self.arm
        self.weight = round(max(35.0, self.weight + self.u(-.6, .6) + (.15 if self.dose_on(v.date) >= 20 else 0)), 1)
        infection = self.infection_on(v.date) if v.target != 1 and self.chance(.5) else None
        other = v.target != 1 and self.chance(.01)
        values = {"EXSTDAT": fmt_date(v.date), "WEIGHT_KG": f"{self.weight:.1f}", "DOSE_MGKG": fmt_num(arm.dose)}
        if infection or other:
            term = K.AE_TERMS[infection["term"]].en if infection else ""
            values.update(GIVEN="No", REASNG=f"Active infection: {term}" if infection else r.choice(K.REASONS_NOT_GIVEN))
            if infection:
                infection["acn"] = "Drug interrupted"
        else:
            start = r.randint(8 * 12 + 6, 14 * 12 + 6) * 5
            values.update(EXSTTIM=fmt_time(start), EXENTIM=fmt_time(start + r.randint(11, 15) * 5),
                          DOSE_MG=f"{arm.dose * self.weight:.0f}", VOLUME_ML="250", GIVEN="Yes")
            self.last_dose = v.date
        row = self.row("dosing", values, v.folder)
        if values["GIVEN"] == "No":
            self.mark("given-no", "dosing", row, "GIVEN", f"infusion not given: {values['REASNG']}", bool(infection))
        return row

    def sledai_values(self, items, day: int) -> dict[str, str]:
        values = {d: ("1" if d in items else "0") for d in sledai_weights()}
        values["ASSESSDAT"], values["SITETOT"] = fmt_date(day), str(self.total(items))
        return values

    def write_assessment(self, v: _Visit, wrong_total: bool, disagree: bool, index: int) -> list[str]:
        snap, day = v.snap, fmt_date(v.date)
        values = self.sledai_values(snap["items"], v.date)
        if wrong_total:
            true = int(values["SITETOT"])
            wrong = true - 4 if true >= 4 and self.chance(.5) else true + 2
            values["SITETOT"] = str(wrong)
        first = self.row("sledai", values, v.folder)
        if wrong_total:
            self.mark("site-total", "sledai", first, "SITETOT", f"SITETOT {wrong}, descriptors sum to {true}")
        self.row("bilag", {"ASSESSDAT": day, **dict(zip(K.BILAG_ITEMS, snap["grades"]))}, v.folder)
        self.row("pga", {"ASSESSDAT": day, "PGA": f"{snap['pga10'] // 10}.{snap['pga10'] % 10}"}, v.folder)
        if self.has("flare") and (v.target is None or v.target >= 1):
            self.write_flare(v, disagree)
        return first

    def write_flare(self, v: _Visit, disagree: bool) -> None:
        flares = v.reported
        severe = any(f.severe for f in flares)
        values = {"ASSESSDAT": fmt_date(v.date),
                  "FLARE": "Severe" if severe else "Mild/Moderate" if flares else "None",
                  "MM_NEWWORSE": "1" if flares and not severe else "0", "SV_NEWWORSE": "1" if severe else "0",
                  "SV_HOSP": "1" if any(f.hosp for f in flares) else "0",
                  "FLAREDAT": fmt_date(min(f.date for f in flares)) if flares else ""}
        note = None
        if disagree:
            if flares:
                values["MM_NEWWORSE"] = values["SV_NEWWORSE"] = values["SV_HOSP"] = "0"
                note = f"FLARE {values['FLARE']} with no manifestation box ticked"
            else:
                values["MM_NEWWORSE"] = "1"
                note = "FLARE None but MM_NEWWORSE ticked"
        row = self.row("flare", values, v.folder)
        if note:
            self.mark("flare-disagreement", "flare", row, "FLARE", note)

    def write_reassessment(self, v: _Visit, next_date: int) -> None:
        """A second SELENA-SLEDAI (and PGA, BILAG) in the same folder: same day or a few days later."""
        day = v.date if self.chance(.5) else min(v.date + self.r.randint(1, 3), next_date - 1)
        items = set(v.snap["items"])
        changed = self.r.choice(RESCORED)             # examined again: labs stay as drawn
        items ^= {changed}
        row = self.row("sledai", self.sledai_values(items, day), v.folder)
        self.row("bilag", {"ASSESSDAT": fmt_date(day), **dict(zip(K.BILAG_ITEMS, v.snap["grades"]))}, v.folder)
        pga = v.snap["pga10"]
        self.row("pga", {"ASSESSDAT": fmt_date(day), "PGA": f"{pga // 10}.{pga % 10}"}, v.folder)
        self.mark("reassessment", "sledai", row, "ASSESSDAT",
                  f"second assessment in {v.folder} ({'same day' if day == v.date else 'later date'}, "
                  f"{changed} re-scored)")

    def write_labs(self, v: _Visit) -> None:
        r, snap = self.r, v.snap
        items, severe = snap["items"], snap["severe"]
        lab = self.sk.primary_lab if self.chance(.8) else 1 - self.sk.primary_lab
        unscheduled = v.target is None and v.folder == self.study.unscheduled_folder
        t = max(0, v.date - self.sk.day1) if self.arm else 0
        fall = by_arm(self.p.b_cell_fall, self.sk.armcd) if self.arm else 0
        u = self.u
        canon = {
            "Anti-dsDNA antibody": u(1.3, 9.5) if "DNABIND" in items else u(.02, .85),
            "Complement C3": u(.35, .85) if "LOWCOMP" in items else u(.92, 1.5),
            "Complement C4": u(.03, .09) if "LOWCOMP" in items and self.chance(.7) else u(.11, .32),
            "Platelets": (u(30, 58) if "HAEM" in severe else u(62, 97)) if "THROMBO" in items else u(110, 330),
            "WBC": u(1.8, 2.9) if "LEUKOPEN" in items else u(3.2, 8.8),
            "Haemoglobin": (u(108, 142) if self.female else u(125, 162)) - (15 if severe else 0),
            "Creatinine": (u(60, 130) if "PROTEIN" in items else u(40, 75)) + (0 if self.female else 15),
            "ALT": u(41, 95) if self.chance(.06) else u(8, 38),
            "AST": u(12, 34),
            "24h urine protein": u(.6, 3.5) if "PROTEIN" in items else u(.03, .3),
            "CRP": u(6, 40) if items & {"ARTHRIT", "PLEURISY", "PERICARD", "FEVER"} else u(.1, 6),
            "ESR": u(6, 25) + (u(10, 40) if self.total(items) >= 6 else 0),
            "CD19+ B cells": self.b_cells[0] * (1 - fall * min(1, t / 168)),
            "Non-switched memory B cells (CD27+IgD+)": self.b_cells[1] * (1 - .8 * fall * min(1, t / 336)),
        }
        common = [self.study.studyid, self.sk.siteid, self.sk.subjid, v.folder, fmt_date(v.date),
                  fmt_time(r.randint(7 * 12, 10 * 12 + 6) * 5)]
        rows = self.out.rows["lab"]
        b_cells = v.folder in K.B_CELL_FOLDERS
        for test in K.LAB_TESTS:
            if unscheduled and not test.unscheduled or test.cat == "B CELL PHENOTYPE" and not b_cells:
                continue
            which = lab if test.units[lab] else 0
            unit = test.units[which]
            if test.name == K.QUALITATIVE:
                result = "POS" if "PROTEIN" in items else "TRACE" if self.chance(.15) else "NEG"
            else:
                value = canon[test.name] * reported_factor(test, unit)
                if unit.below is not None and value < unit.below:
                    result = f"<{fmt_num(unit.below)}"
                elif unit.above is not None and value > unit.above:
                    result = f">{fmt_num(unit.above)}"
                else:
                    result = f"{value:.{unit.decimals}f}"
            row = [*common, test.cat, test.name, result, unit.unit, unit.lo, unit.hi, (K.LAB_A, K.LAB_B)[which]]
            rows.append(row)
            if result[0] in "<>" or result in ("NEG", "POS", "TRACE"):
                self.mark("qualifier", "lab", row, "LBORRES", f"{test.name} {result}", result[0] + test.name)
            if which == 1 and unit.unit != test.units[0].unit:
                self.mark("mixed-units", "lab", row, "LBORRESU",
                          f"{test.name} in {unit.unit} (other lab: {test.units[0].unit})", test.name)

    def write_cm(self) -> None:
        imputed = {None: lambda d: d, "day": lambda d: date.fromordinal(d).replace(day=1).toordinal(),
                   "month": lambda d: date(date.fromordinal(d).year, 1, 1).toordinal(), "all": lambda d: 0}
        meds = sorted(self.meds, key=lambda m: imputed[m["unknown"]](m["start"]))
        for k, m in enumerate(meds, 1):
            if not self.arm and m["start"] > self.screen:
                continue
            end = "" if m["end"] is None else fmt_partial(m["end"], m["end_unknown"])
            values = {**m, "CMSPID": str(k), "CMSTDAT": fmt_partial(m["start"], m["unknown"]), "CMENDAT": end}
            row = self.row("cm", values)
            if m["unknown"]:
                self.mark("partial-date", "cm", row, "CMSTDAT", f"{m['CMTRT']} start {values['CMSTDAT']}",
                          f"CMSTDAT {m['unknown']}")
            if m["end_unknown"]:
                self.mark("partial-date", "cm", row, "CMENDAT", f"{m['CMTRT']} end {end}", "CMENDAT")
            if not m["CMTRT"].isascii():
                self.mark("chinese-text", "cm", row, "CMTRT", f"CMTRT {m['CMTRT']}", "CMTRT")

    def write_ae(self) -> None:
        sk = self.sk
        zh = self.chance(.3)
        for k, ae in enumerate(self.aes, 1):
            term = K.AE_TERMS[ae["term"]]
            chinese = zh or (k == 1 and (sk.needs_chinese_ae or "chinese-text" in sk.flags))
            ongoing = ae["end"] > self.stop and ae.get("out") != "Fatal"
            start_unknown = "day" if self.chance(.04) else None
            end_unknown = "day" if not ongoing and self.chance(.04) else None
            if ongoing:
                out = "Not recovered/not resolved" if self.chance(.6) else "Recovering/resolving"
            else:
                out = ae.get("out") or ("Recovered/resolved with sequelae" if ae["ser"] and self.chance(.1)
                                        else "Recovered/resolved")
            after_last = self.last_dose is None or ae["start"] > self.last_dose
            acn = ae.get("acn") or ("Not applicable" if after_last else "Dose not changed")
            row = self.row("ae", {
                "AESPID": str(k), "AETERM": term.zh if chinese else term.en, "AELLT": term.llt, "AEPT": term.pt,
                "AESOC": term.soc, "AEHLT": term.hlt, "AEHLGT": term.hlgt, "MEDDRA_VER": "26.0",
                "AESTDAT": fmt_partial(ae["start"], start_unknown),
                "AEENDAT": "" if ongoing else fmt_partial(ae["end"], end_unknown),
                "AEONGO": "Yes" if ongoing else "No", "AETOXGR": str(ae["grade"]),
                "AESER": "Yes" if ae["ser"] else "No", "AESHOSP": "Yes" if ae["hosp"] else "No",
                "AESLE": "Yes" if ae["sle"] else "No", "AEREL": self.pick(tuple(zip(term.rel, K.AEREL))),
                "AEACN": acn, "AEOUT": out})
            if chinese:
                self.mark("chinese-text", "ae", row, "AETERM", f"AETERM {term.zh} ({term.pt})", "AETERM")
            if start_unknown:
                self.mark("partial-date", "ae", row, "AESTDAT", "partial AE start", "AESTDAT")
            if end_unknown:
                self.mark("partial-date", "ae", row, "AEENDAT", "partial AE end", "AEENDAT")

    def write_disp(self, visits: list[_Visit]) -> None:
        sk = self.sk
        if not self.arm:
            values = {"DSSTDAT": fmt_date(self.screen + self.r.randint(1, 14)), "DSDECOD_SITE": "Screen failure"}
        else:
            reason = sk.dropout[0] if sk.dropout else "Completed"
            values = {"DSSTDAT": fmt_date(self.stop), "DSDECOD_SITE": reason,
                      "LASTDOSE": fmt_date(self.last_dose) if self.last_dose else ""}
        row = self.row("disp", values)
        if sk.dropout:
            self.mark("dropout", "disp", row, "DSDECOD_SITE",
                      f"{sk.dropout[0]} on {values['DSSTDAT']} (last visit {visits[-1].folder})")


def reported_factor(test: K.LabTest, unit: K.LabUnit) -> float:
    """Reported value per canonical value (the spec's standard unit): the assay scale over the
    spec's conversion factor of the reported unit (specs/lab-tests.yaml; x1 for the standard unit)."""
    factors = lab_unit_factors().get(test.spec)
    if factors is None:
        return unit.scale
    return unit.scale / factors[unit.cdisc or unit.unit]
