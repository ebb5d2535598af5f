"""The PostgreSQL backend: full-text search in the database every app server shares.

Documents hold only text (``search_document``: tsvectors with a GIN index). Filters, facets
and the visibility rule are read from the job and co-op tables themselves, the rule through
``marketplace.federation.job_visibility_clause``, so results, counts and facets always obey
the database's current state. Ranking follows the same tiers as the Whoosh backend: the
number of the query's clauses matched, then matched in the title, then in the skills, then
newest first.
"""
import time
from contextlib import contextmanager

from markupsafe import Markup, escape
from sqlalchemy import (Integer, and_, bindparam, case, cast, delete, exists, func, literal, literal_column,
                        select)
from sqlalchemy.dialects.postgresql import REGCONFIG, insert

from ..coops.models import Coop
from ..federation import job_visibility_clause
from ..jobs.models import Job, job_skill
from ..skills.models import Skill
from . import Hit, IndexBusy, SearchResult
from .documents import COOP, FACETS, JOB, budget_band_expression
from .models import SearchDocument
from .query import And, Not, Text

CONFIG = literal("english", REGCONFIG)
LOCK_KEY = 0x5EA4C4  # pg advisory lock: one queue drain at a time
HEADLINE_OPTIONS = "StartSel=\x01, StopSel=\x02, MaxFragments=2, MaxWords=30, MinWords=12, FragmentDelimiter= … "


def _vector(text, weight=None):
    vector = func.to_tsvector(CONFIG, func.coalesce(text, ""))
    # The weight is one of our own letters A-D: written into the SQL as a "char" literal.
    return func.setweight(vector, literal_column(f"'{weight}'")) if weight else vector


class PostgresBackend:
    name = "postgres"

    def status(self):
        return "ready"

    # writing

    @contextmanager
    def writer(self, session, timeout=None):
        """Changes written in ``session``'s transaction (the caller commits them with the
        queue rows they came from). One writer at a time, so that an earlier state never
        overwrites a later one."""
        deadline = time.monotonic() + (0.25 if timeout is None else timeout)
        while not session.scalar(select(func.pg_try_advisory_xact_lock(LOCK_KEY))):
            if time.monotonic() > deadline:
                raise IndexBusy()
            time.sleep(0.02)
        yield _Batch(session)

    def rebuild(self, documents, total=None, progress=None):
        """Replace every document in one transaction: readers see the old ones until it commits."""
        from sqlalchemy.orm import Session

        from ..extensions import db

        with Session(db.engine) as session:
            session.execute(select(func.pg_advisory_xact_lock(LOCK_KEY)))
            session.execute(delete(SearchDocument))
            batch = _Batch(session)
            count = 0
            for document in documents:
                batch.put(document, flush=False)
                count += 1
                if progress:
                    progress(1)
            batch.flush()
            session.commit()
        return count

    def versions(self):
        from ..extensions import db

        rows = db.session.execute(
            select(SearchDocument.kind, SearchDocument.object_id, SearchDocument.source_updated_at)
        )
        return {f"{kind}:{object_id}": updated for kind, object_id, updated in rows}

    # reading

    def query(self, request, viewer, now, alternatives=()):
        from ..extensions import db

        session = db.session
        translate = _Translator(alternatives)
        clauses = [translate.node(c) for c in request.query.clauses]
        excluded = [translate.node(c) for c in request.query.excluded]
        # Drop what analysis leaves empty (only stop words), as the Whoosh backend does.
        sizes = session.execute(select(*[func.numnode(q) for q in clauses + excluded])).one() \
            if clauses or excluded else ()
        clauses, excluded = ([q for q, n in zip(clauses, sizes[:len(clauses)]) if n],
                             [q for q, n in zip(excluded, sizes[len(clauses):]) if n])
        notices = list(request.query.notices)
        if request.query.clauses and not clauses:
            notices.append("Your search had only very common words; try more specific ones.")
        searched = bool(clauses)

        doc = SearchDocument
        labels = {}
        matched = [doc.kind == request.kind]
        if searched:
            combined = clauses[0]
            for q in clauses[1:]:
                combined = func.tsquery_or(combined, q)
            matched.append(doc.everything.op("@@")(combined))
        for q in excluded:
            matched.append(~doc.everything.op("@@")(q))

        job_match = [Job.id == doc.object_id, job_visibility_clause(viewer)] + matched[1:]
        job_filters = {name: self._filter(name, value, now) for name, value in request.filters.items()}
        kind_counts = {
            JOB: self._count(select(Job.id).join(doc, and_(doc.kind == JOB, *job_match)), job_filters.values()),
            COOP: self._count(select(doc.object_id).where(doc.kind == COOP, *matched[1:]), ()),
        }

        if request.kind == JOB:
            base = select(Job.id).select_from(doc).join(Job, and_(*job_match)).where(doc.kind == JOB)
            facets = self._facets(base, job_filters, now, labels)
            stmt = select(doc.kind, doc.object_id, doc.source_updated_at).select_from(doc) \
                .join(Job, and_(*job_match)).where(doc.kind == JOB, *job_filters.values())
            total = kind_counts[JOB]
            newest, deadline = Job.published_at, Job.bids_deadline
        else:
            stmt = select(doc.kind, doc.object_id, doc.source_updated_at).select_from(doc) \
                .join(Coop, Coop.id == doc.object_id).where(*matched)
            facets = {}
            total = kind_counts[COOP]
            newest, deadline = Coop.created_at, None

        order = []
        if request.sort == "closing" and deadline is not None:
            # Deadlines still ahead first, soonest first; then the passed ones, latest first.
            future = deadline > now
            order = [future.desc(), case((future, deadline), else_=None).asc(), deadline.desc()]
        elif request.sort == "relevance" and searched:
            for column in (doc.everything, doc.title, doc.skills):
                order.append(sum(cast(column.op("@@")(q), Integer) for q in clauses).desc())
        order += [newest.desc().nulls_last(), doc.object_id.desc()]
        offset = (request.page - 1) * request.per_page
        rows = session.execute(stmt.order_by(*order).limit(request.per_page).offset(offset)).all()
        hits = [Hit(kind, object_id, updated) for kind, object_id, updated in rows]
        highlight = None
        if searched:
            highlight = clauses[0]
            for q in clauses[1:]:
                highlight = func.tsquery_or(highlight, q)
        return SearchResult(
            hits=hits, total=total, facets=facets, kind_counts=kind_counts, notices=notices,
            searched=searched, highlight=highlight, labels=labels,
        )

    def _count(self, stmt, filters):
        from ..extensions import db

        stmt = stmt.where(*filters)
        return db.session.scalar(select(func.count()).select_from(stmt.subquery()))

    def _filter(self, name, value, now):
        if name == "skill":
            return exists().where(
                job_skill.c.job_id == Job.id, job_skill.c.skill_id == Skill.id, Skill.slug == value
            )
        return _facet_expression(name) == (int(value) if name == "coop" else value)

    def _facets(self, base, filters, now, labels):
        """{facet: [(value, count)]}: each facet counted with every other facet's filter."""
        from ..extensions import db

        facets = {}
        unselected = [name for name in FACETS if name not in filters]
        groups = [(name, [f for other, f in filters.items() if other != name]) for name in filters]
        if unselected:
            groups.append((None, list(filters.values())))
        for name, where in groups:
            matching = select(base.where(*where).subquery().c.id)
            for facet in [name] if name else unselected:
                if facet == "skill":
                    stmt = (select(Skill.slug, func.count())
                            .join(job_skill, job_skill.c.skill_id == Skill.id)
                            .where(job_skill.c.job_id.in_(matching)).group_by(Skill.slug))
                elif facet == "location":  # counted by place, labelled as written
                    expr = _facet_expression(facet)
                    stmt = (select(expr, func.count(), func.min(func.trim(Job.location))).select_from(Job)
                            .where(Job.id.in_(matching)).group_by(expr))
                else:
                    expr = _facet_expression(facet)
                    stmt = select(expr, func.count()).select_from(Job).where(Job.id.in_(matching)).group_by(expr)
                counts = []
                for value, n, *label in db.session.execute(stmt):
                    if value in (None, "") or not n:
                        continue
                    counts.append((str(value), n))
                    if label:
                        labels.setdefault(facet, {})[str(value)] = label[0]
                facets[facet] = sorted(counts, key=lambda item: (-item[1], item[0]))
        return facets

    def snippets(self, result, texts):
        """{key: Markup or None}: ``ts_headline`` with control characters as markers, so
        that the text is escaped here and only the markers become <mark>."""
        from ..extensions import db

        out = {key: None for key, _ in texts}
        if result.highlight is None or not texts:
            return out
        for key, text in texts:
            clean = (text or "").replace("\x01", "").replace("\x02", "")
            found = db.session.scalar(select(func.ts_headline(CONFIG, clean, result.highlight, HEADLINE_OPTIONS)))
            if found and "\x01" in found:
                marked = str(escape(found)).replace("\x01", "<mark>").replace("\x02", "</mark>")
                out[key] = Markup(marked)
        return out


def _facet_expression(name):
    return {
        "kind": Job.kind,
        "state": Job.state,  # the model's own SQL expression of the derived state
        "visibility": Job.visibility,
        "budget": budget_band_expression(),
        "mode": Job.work_mode,
        "location": func.lower(func.trim(Job.location)),
        "coop": Job.coop_id,
    }[name]


class _Batch:
    def __init__(self, session):
        self.session = session
        self.pending = []

    def put(self, document, flush=True):
        self.pending.append({
            "kind": document.kind, "object_id": document.object_id,
            "t_title": document.title, "t_skills": document.skills_text,
            "t_summary": document.summary, "t_rest": "\n".join([document.body, document.location]),
            "excerpt": document.excerpt, "source_updated_at": document.updated_at,
        })
        if flush or len(self.pending) >= 500:
            self.flush()

    def flush(self):
        if not self.pending:
            return
        everything = (_vector(bindparam("t_title"), "A").op("||")(_vector(bindparam("t_skills"), "B"))
                      .op("||")(_vector(bindparam("t_summary"), "C")).op("||")(_vector(bindparam("t_rest"), "D")))
        stmt = insert(SearchDocument).values(
            kind=bindparam("kind"), object_id=bindparam("object_id"),
            everything=everything, title=_vector(bindparam("t_title")), skills=_vector(bindparam("t_skills")),
            excerpt=bindparam("excerpt"), source_updated_at=bindparam("source_updated_at"),
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[SearchDocument.kind, SearchDocument.object_id],
            set_={c: stmt.excluded[c] for c in ("everything", "title", "skills", "excerpt", "source_updated_at")},
        )
        self.session.connection().execute(stmt, self.pending)
        self.pending = []

    def delete(self, kind, object_id):
        self.session.execute(
            delete(SearchDocument).where(SearchDocument.kind == kind, SearchDocument.object_id == object_id)
        )


class _Translator:
    """The parsed query as tsquery expressions (every word a bound parameter)."""

    def __init__(self, alternatives):
        self.synonyms = {}
        for _slug, name, synonyms in alternatives:
            variants = {" ".join(v.lower().split()) for v in (name, *synonyms)} - {""}
            for variant in variants:
                self.synonyms.setdefault(variant, set()).update(variants - {variant})

    def node(self, node):
        if isinstance(node, Text):
            return self.leaf(node)
        if isinstance(node, Not):
            return func.tsquery_not(self.node(node.item))
        parts = [self.node(item) for item in node.items]
        combine = func.tsquery_and if isinstance(node, And) else func.tsquery_or
        result = parts[0]
        for part in parts[1:]:
            result = combine(result, part)
        return result

    def leaf(self, node):
        if node.prefix:
            # The parser lets only a single \w+ word carry a star: safe inside to_tsquery.
            return func.to_tsquery(CONFIG, literal(node.text + ":*"))
        query = func.phraseto_tsquery(CONFIG, literal(node.text))
        for alternative in sorted(self.synonyms.get(" ".join(node.text.lower().split()), ())):
            query = func.tsquery_or(query, func.phraseto_tsquery(CONFIG, literal(alternative)))
        return query
