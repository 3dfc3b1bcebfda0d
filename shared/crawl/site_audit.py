"""The site audit of a crawl, as the API shows it: each issue type found, its pages, and what changed since the
crawl before."""

import uuid
from collections import defaultdict

from sqlalchemy import func, select

from shared.auth import Principal
from shared.crawl.audit import ISSUE_TYPES, Finding, compare, page_changes
from shared.crawl.data import audit as audit_data
from shared.crawl.models import AuditDiffOut, AuditIssueRef, AuditOut, IssueOut, IssuePageOut, PageFieldChangeOut
from shared.crawl.pages import crawl_of
from shared.crawl.tables import PageSnapshot
from shared.jobs.data import jobs
from shared.tenancy.scope import tenant_scope

PAGES_PER_ISSUE = 100
SEVERITY_ORDER = {"error": 0, "warning": 1, "notice": 2}


def _ref(finding: Finding) -> AuditIssueRef:
    return AuditIssueRef(code=finding.code, url=finding.url, detail=dict(finding.detail))


def site_audit(principal: Principal, project_id: uuid.UUID, *, crawl_id: uuid.UUID | None) -> AuditOut:
    with tenant_scope(principal) as session:
        job_id = crawl_of(session, project_id, crawl_id)
        job = jobs.get(session, job_id)
        findings = audit_data.findings_of(session, job_id)
        page_ids = dict(
            session.execute(select(PageSnapshot.url, PageSnapshot.page_id).where(PageSnapshot.job_id == job_id)).all()
        )
        by_code: dict[str, list[Finding]] = defaultdict(list)
        for finding in findings:
            by_code[finding.code].append(finding)
        issues = [
            IssueOut(
                code=code,
                severity=ISSUE_TYPES[code].severity,
                title=ISSUE_TYPES[code].title,
                explanation=ISSUE_TYPES[code].explanation,
                threshold=ISSUE_TYPES[code].threshold,
                count=len(items),
                pages=[
                    IssuePageOut(url=f.url, page_id=page_ids.get(f.url), detail=dict(f.detail))
                    for f in items[:PAGES_PER_ISSUE]
                ],
            )
            for code, items in by_code.items()
            if code in ISSUE_TYPES
        ]
        issues.sort(key=lambda issue: (SEVERITY_ORDER[issue.severity], -issue.count, issue.code))
        previous = audit_data.latest_audited(session, project_id, before=job_id)
        if previous is None:
            diff = AuditDiffOut(previous_crawl_id=None, new_issues=[], fixed_issues=[], page_changes=[])
        else:
            difference = compare(audit_data.findings_of(session, previous.id), findings)
            changed = page_changes(
                audit_data.page_states(session, previous.id), audit_data.page_states(session, job_id)
            )
            diff = AuditDiffOut(
                previous_crawl_id=previous.id,
                new_issues=[_ref(f) for f in difference.new],
                fixed_issues=[_ref(f) for f in difference.fixed],
                page_changes=[
                    PageFieldChangeOut(url=c.url, field=c.field, before=c.before, after=c.after) for c in changed
                ],
            )
        pages = session.scalar(select(func.count()).where(PageSnapshot.job_id == job_id)) or 0
        return AuditOut(crawl_id=job_id, crawled_at=job.finished_at, pages=pages, issues=issues, changes=diff)
