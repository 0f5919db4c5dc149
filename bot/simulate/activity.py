"""Synthetic workers and what they do, replayed through the rules the handlers apply.

Each worker is played message by message in memory — joining, `学习`, answers, retries — and
every effect is written as `handlers/learner.py` and `handlers/rewards.py` write it: the same
rows, the same idempotency keys, the same order of grants, the same caps (`allowed_points`),
the same streak rule. Only the storage differs: rows are collected for bulk inserts.
"""

from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.answers import lesson_passed
from bot.domain.points import PointsRules, Rule, allowed_points
from bot.domain.streaks import StreakState, study
from bot.ledger import periods_of
from bot.simulate.curriculum import Curriculum, LessonPlan
from bot.simulate.people import external_id, person_name
from bot.simulate.writer import Storage

Row = tuple[Any, ...]

USER_COLUMNS = ("id", "name", "enterprise_id", "group", "state", "created_at", "points",
                "points_at", "credits", "streak_days", "last_study_day", "freeze_week",
                "reachable", "public_board", "flagged", "trained_at")
ACCOUNT_COLUMNS = ("channel", "external_id", "user_id", "created_at")
ATTEMPT_COLUMNS = ("id", "user_id", "course_id", "lesson_id", "layout", "position", "correct",
                   "started_at", "question_sent_at", "finished_at", "passed")
ANSWER_COLUMNS = ("user_id", "attempt_id", "question_id", "chosen", "correct", "answered_at",
                  "latency_ms", "too_fast")
PASS_COLUMNS = ("user_id", "course_id", "lesson_id", "score", "passed_at")
REVIEW_COLUMNS = ("user_id", "question_id", "box", "due_day")
POINTS_COLUMNS = ("user_id", "delta", "rule", "reason", "idem_key", "created_at", "day")
RULES = ("first_correct", "daily_signin", "streak_7", "streak_30", "lesson_pass", "course_complete")

# Who the workers are. Shares are of all workers before an enterprise's engagement scales them.
KEEN_SHARE = 0.022  # study most days until both required courses are done, then some electives
OCCASIONAL_SHARE = 0.28  # one to three sittings of a lesson or three
OPT_OUT_SHARE = 0.02  # asked to be left off the public boards
GROUP_CUM = (30, 75, 93, 100)  # 新到珠产业工人 30 %, 产业工人 45 %, 骨干专业技术人才 18 %, 经营管理人员 7 %
CHANNELS = ("wechat", "telegram", "console")
CHANNEL_CUM = (80, 95, 100)
FEW_CUM = (60, 90, 100)  # one (60 %), two (30 %) or three (10 %) sittings, or lessons a sitting
# When people study: after the evening shift, at lunch, or before a day shift / after a night one.
SLOTS = ((19 * 3600, 22 * 3600 + 1800), (12 * 3600, 13 * 3600), (7 * 3600, 8 * 3600 + 1800))
SLOT_CUM = (60, 80, 100)


@dataclass
class Rows:
    """Everything a batch of workers writes, in insert order, plus what needs a service call."""

    users: list[Row] = field(default_factory=list)
    accounts: list[Row] = field(default_factory=list)
    attempts: list[Row] = field(default_factory=list)
    answers: list[Row] = field(default_factory=list)
    passes: list[Row] = field(default_factory=list)
    reviews: list[Row] = field(default_factory=list)
    points: list[Row] = field(default_factory=list)
    scores: list[Row] = field(default_factory=list)
    # (user_id, course_id, credits, required, epoch): for `bot.ledger.grant_credit`
    credits: list[tuple[int, str, float, bool, int]] = field(default_factory=list)
    # (epoch, user_id) of each worker who earned the second required credit: data-pack order
    trained: list[tuple[int, int]] = field(default_factory=list)
    points_issued: int = 0


@dataclass(frozen=True)
class Company:
    """A simulated enterprise: its id, its share of the workers, how hard it pushes learning."""

    id: int
    size: float
    engagement: float


class Calendar:
    """Local days of the window and epoch seconds, in the campaign's timezone."""

    def __init__(self, now: datetime, days: int, tz: str) -> None:
        self.zone = ZoneInfo(tz)
        self.now = int(now.timestamp())
        today = now.astimezone(self.zone).date()
        self.days = [today - timedelta(days=days - 1 - i) for i in range(days)]
        self.midnights = [int(datetime.combine(d, datetime.min.time(), self.zone).timestamp())
                          for d in self.days]
        self._day_of: dict[int, date] = {}
        self._periods: dict[date, tuple[str, ...]] = {}

    def day_of(self, epoch: int) -> date:
        """Return the local calendar day of an instant."""
        key = epoch // 900  # every zone's offset is a multiple of 15 minutes
        found = self._day_of.get(key)
        if found is None:
            found = self._day_of[key] = datetime.fromtimestamp(epoch, UTC).astimezone(
                self.zone).date()
        return found

    def periods(self, day: date) -> tuple[str, ...]:
        """Return the board periods of a day (cached `bot.ledger.periods_of`)."""
        found = self._periods.get(day)
        if found is None:
            found = self._periods[day] = periods_of(day)
        return found


class Ledger:
    """One worker's points, granted as `bot.ledger.grant` grants them, kept as rows."""

    def __init__(self, uid: int, sim: Simulator) -> None:
        self.uid = uid
        self.sim = sim
        self.balance = 0
        self.points_at: int | None = None
        self.by_rule: dict[tuple[date, str], int] = {}
        self.capped: dict[date, int] = {}
        self.periods: dict[str, list[int]] = {}  # period → [points, epoch of last growth]

    def grant(self, rule: Rule, key: str, detail: str, epoch: int, day: date) -> int:
        """Record one grant within the caps (0 points when capped, still recorded); return points."""
        sim = self.sim
        capped = self.capped.get(day, 0)
        earned = self.by_rule.get((day, rule.name), 0)
        points = allowed_points(rule, earned, capped, sim.daily_total_cap)
        reason = f"{rule.label}：{detail}" if detail else rule.label
        if points < rule.points:
            reason += "（今日已达上限）"
        sim.out.points.append((self.uid, points, rule.name, reason, key, sim.ts(epoch),
                               sim.day_value(day)))
        if points:
            self.by_rule[(day, rule.name)] = earned + points
            if rule.capped:
                self.capped[day] = capped + points
            self.balance += points
            self.points_at = epoch
            for period in sim.calendar.periods(day):
                score = self.periods.get(period)
                if score is None:
                    self.periods[period] = [points, epoch]
                else:
                    score[0] += points
                    score[1] = epoch
        return points


class Stop(Exception):
    """The simulated present has been reached: the worker does nothing more."""


class Worker:
    """One worker's learning, message by message, as the handlers would record it."""

    def __init__(self, sim: Simulator, uid: int, enterprise_id: int, public: bool,
                 rng: random.Random) -> None:
        self.sim = sim
        self.uid = uid
        self.enterprise_id = enterprise_id
        self.rng = rng
        self.ledger = Ledger(uid, sim)
        self.public = public
        self.next_lesson = 0  # index into the curriculum: the first lesson not yet passed
        self.lessons_passed: set[str] = set()
        self.credited: set[str] = set()
        self.first_correct: set[str] = set()
        self.review: dict[str, tuple[int, int]] = {}  # question → (box, due day ordinal)
        self.streak = StreakState()
        self.trained_at: int | None = None
        self.skill = 0.0
        self.t = 0  # the worker's own clock, epoch seconds

    @property
    def trained(self) -> bool:
        """Tell whether both required credits are earned."""
        return self.trained_at is not None

    def tick(self, seconds: int) -> int:
        """Let time pass; stop the worker at the simulated present."""
        self.t += seconds
        if self.t >= self.sim.calendar.now:
            raise Stop
        return self.t

    def study_day(self, epoch: int, day: date) -> None:
        """Count the day for the streak; daily sign-in and streak bonuses once (`study_day`)."""
        after = study(self.streak, day)
        if after == self.streak:
            return
        self.streak = after
        rules = self.sim.rule_of
        self.ledger.grant(rules["daily_signin"], f"signin:{self.uid}:{day}", str(day), epoch, day)
        for days in (7, 30):
            if after.days == days:
                self.ledger.grant(rules[f"streak_{days}"], f"streak_{days}:{self.uid}:{day}", "",
                                  epoch, day)

    def sit(self, lesson: LessonPlan, give_up_after: int | None = None) -> bool:
        """Open an attempt with `学习`, answer its questions; return True when it was passed."""
        sim, out, uid = self.sim, self.sim.out, self.uid
        rand = self.rng.random
        ts, day_of, interval = sim.ts, sim.calendar.day_of, sim.review_interval
        answers, review, first_correct = out.answers, self.review, self.first_correct
        first_rule = sim.rule_of["first_correct"]
        started = sent = self.tick(5 + int(rand() * 56))  # the `学习` message
        attempt_id = sim.next_attempt_id
        sim.next_attempt_id += 1
        position = correct = 0
        finished = False
        try:
            for q in lesson.questions:
                if give_up_after is not None and position >= give_up_after:
                    return False
                now = self.tick(q.reading + 2 + int(rand() * 24))
                right = rand() < self.skill
                chosen = q.answer if right else q.wrong[int(rand() * len(q.wrong))]
                answers.append((uid, attempt_id, q.id, chosen, right, ts(now),
                                (now - sent) * 1000, False))
                sent = now
                day = day_of(now)
                if right and q.id not in first_correct:
                    first_correct.add(q.id)
                    self.ledger.grant(first_rule, f"first_correct:{uid}:{q.id}", q.id, now, day)
                if day != self.streak.last_day:
                    self.study_day(now, day)
                if right:
                    box = review.get(q.id, (0, 0))[0] + 1
                    review[q.id] = (box, day.toordinal() + interval(box))
                else:
                    review[q.id] = (0, day.toordinal())
                position += 1
                correct += right
            finished = True
            return self.finish(lesson, correct, sent)
        finally:
            passed = (lesson_passed(correct, position, lesson.course.pass_mark)
                      if finished else None)
            out.attempts.append((attempt_id, uid, lesson.course.id, lesson.id, lesson.layout,
                                 position, correct, ts(started), ts(sent),
                                 ts(sent) if finished else None, passed))

    def finish(self, lesson: LessonPlan, correct: int, epoch: int) -> bool:
        """Close a finished attempt as `finish_attempt` and `course_completed` do."""
        total = len(lesson.questions)
        course = lesson.course
        if not lesson_passed(correct, total, course.pass_mark):
            return False
        sim, uid = self.sim, self.uid
        day = sim.calendar.day_of(epoch)
        sim.out.passes.append((uid, course.id, lesson.id, correct / total, sim.ts(epoch)))
        self.lessons_passed.add(lesson.id)
        rules = sim.rule_of
        self.ledger.grant(rules["lesson_pass"], f"lesson_pass:{uid}:{lesson.id}", lesson.id, epoch,
                          day)
        if lesson.completes_course and all(x.id in self.lessons_passed for x in course.lessons):
            self.credited.add(course.id)
            sim.out.credits.append((uid, course.id, course.credits, course.required, epoch))
            self.ledger.grant(rules["course_complete"], f"course_complete:{uid}:{course.id}",
                              course.id, epoch, day)
            if course.required and sim.curriculum.required_courses <= self.credited:
                self.trained_at = epoch
                sim.out.trained.append((epoch, uid))
        return True

    def session(self, start: int, lessons: int, give_up: bool = False) -> None:
        """Study up to `lessons` lessons from `start`, retrying a failed one straight away."""
        self.t = max(self.t, start)
        if self.t >= self.sim.calendar.now:
            raise Stop
        plan = self.sim.curriculum.lessons
        failures = 0
        while lessons > 0 and self.next_lesson < len(plan):
            lesson = plan[self.next_lesson]
            quit_at = (1 + int(self.rng.random() * (len(lesson.questions) - 1))
                       if give_up and lessons == 1 and len(lesson.questions) > 1 else None)
            if self.sit(lesson, quit_at):
                self.next_lesson += 1
                lessons -= 1
            elif quit_at is not None:
                return  # left half done: the attempt stays open, as a real one would
            else:
                failures += 1
                if failures == 3:
                    return  # enough for today; the lesson waits for the next sitting
            self.tick(10 + int(self.rng.random() * 81))  # reading the result, tapping 继续学习


class Simulator:
    """Turn worker indices into rows; one `random.Random` per block keeps runs reproducible."""

    def __init__(self, *, seed: int, curriculum: Curriculum, rules: PointsRules,
                 calendar: Calendar, companies: list[Company], first_user_id: int,
                 next_attempt_id: int, storage: Storage) -> None:
        self.seed = seed
        self.curriculum = curriculum
        self.calendar = calendar
        self.companies = companies
        self.company_cum = list(accumulate(c.size for c in companies))
        self.first_user_id = first_user_id
        self.next_attempt_id = next_attempt_id
        self.rule_of = {name: rules.rule(name) for name in RULES}
        self.daily_total_cap = rules.daily_total_cap
        self.review_interval = rules.review.interval
        self.ts = storage.ts
        self.day_value = storage.day
        self.out = Rows()

    def take(self) -> Rows:
        """Return the rows collected so far and start a new set."""
        rows, self.out = self.out, Rows()
        return rows

    def block(self, index: int, first: int, count: int) -> None:
        """Simulate workers `first` … `first + count - 1`, drawing from block `index`'s rng."""
        # A string seed is hashed with SHA-512: the same numbers on every machine and Python run.
        rng = random.Random(f"jixing-simulate:{self.seed}:{index}")
        companies = rng.choices(self.companies, cum_weights=self.company_cum, k=count)
        for k, company in enumerate(companies):
            self.worker(first + k, company, rng)

    def worker(self, index: int, company: Company, rng: random.Random) -> None:
        """Register one worker and play their learning."""
        cal = self.calendar
        rand = rng.random
        uid = self.first_user_id + index
        public = rand() >= OPT_OUT_SHARE
        group = bisect(GROUP_CUM, rand() * GROUP_CUM[-1]) + 1
        channel = CHANNELS[bisect(CHANNEL_CUM, rand() * CHANNEL_CUM[-1])]
        name = person_name(rng)
        draw = rand()
        keen_share = KEEN_SHARE * company.engagement
        keen = draw < keen_share
        occasional = not keen and draw < keen_share + OCCASIONAL_SHARE * company.engagement ** 0.5
        days = len(cal.days)
        # The keen join early enough to get through both required courses in the window.
        first_day = int(rand() * (max(1, days - 10) if keen else days))
        joined = min(cal.midnights[first_day] + _between(rand, 8 * 3600, 22 * 3600),
                     cal.now - _between(rand, 600, 3600))
        w = Worker(self, uid, company.id, public, rng)
        w.t = joined + _between(rand, 60, 300)  # 开始 INVITE, the name, the group
        try:
            if keen:
                w.skill = 0.8 + 0.17 * rand()
                self.keen(w, first_day)
            elif occasional:
                w.skill = 0.55 + 0.35 * rand()
                self.occasional(w, first_day)
        except Stop:
            pass
        self.write(w, name, group, channel, index, joined)

    def slot_time(self, rng: random.Random, day_index: int) -> int:
        """Return a study time on a day: evening, lunch or around a shift change."""
        start, end = SLOTS[bisect(SLOT_CUM, rng.random() * SLOT_CUM[-1])]
        return self.calendar.midnights[day_index] + _between(rng.random, start, end)

    def keen(self, w: Worker, first_day: int) -> None:
        """Study on most days, three to six lessons a sitting, until trained and a bit beyond."""
        rand = w.rng.random
        electives = _between(rand, 0, 8)
        for d in range(first_day, len(self.calendar.days)):
            if d > first_day and rand() < 0.15:
                continue  # a night shift, a family day
            start = w.t if d == first_day else self.slot_time(w.rng, d)
            before = w.next_lesson
            w.session(start, _between(rand, 3, 6))
            if w.trained:
                electives -= w.next_lesson - before
                if electives <= 0 or w.next_lesson >= len(self.curriculum.lessons):
                    return

    def occasional(self, w: Worker, first_day: int) -> None:
        """Come back once to three times for a lesson or three; sometimes leave one half done."""
        rand = w.rng.random
        last = len(self.calendar.days) - 1
        sittings = bisect(FEW_CUM, rand() * FEW_CUM[-1]) + 1
        plan = sorted([first_day if rand() < 0.7 else _between(rand, first_day, last),
                       *(_between(rand, first_day, last) for _ in range(sittings - 1))])
        for i, d in enumerate(plan):
            start = w.t if d == first_day and i == 0 else self.slot_time(w.rng, d)
            lessons = bisect(FEW_CUM, rand() * FEW_CUM[-1]) + 1
            w.session(start, lessons, give_up=i == len(plan) - 1 and rand() < 0.2)

    def write(self, w: Worker, name: str, group: int, channel: str, index: int,
              joined: int) -> None:
        """Collect the worker's user, account, review and period rows."""
        out, ts, day_value = self.out, self.ts, self.day_value
        ledger = w.ledger
        streak = w.streak
        uid = w.uid
        out.users.append((
            uid, name, w.enterprise_id, group, "ready", ts(joined), ledger.balance,
            ts(ledger.points_at) if ledger.points_at is not None else None,
            0.0,  # credits arrive through `bot.ledger.grant_credit`
            streak.days, day_value(streak.last_day) if streak.last_day else None,
            streak.freeze_week, True, w.public, False,
            ts(w.trained_at) if w.trained_at is not None else None))
        out.accounts.append((channel, external_id(channel, self.seed, index), uid, ts(joined)))
        for qid, (box, due) in w.review.items():
            out.reviews.append((uid, qid, box, day_value(date.fromordinal(due))))
        for period, (points, at) in ledger.periods.items():
            out.scores.append((period, uid, w.enterprise_id, points, ts(at), w.public))
        out.points_issued += ledger.balance


def _between(rand: Callable[[], float], low: int, high: int) -> int:
    """Return a whole number in [low, high] (`randint` costs ten times more)."""
    return low + int(rand() * (high - low + 1))
