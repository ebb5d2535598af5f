"""The demo world: fictional UK tech co-ops, their people and the work they share.

Every name here is invented; websites and addresses use the reserved ``example.coop`` domain.
The jobs are in ``job_data``, named here too.
"""
from dataclasses import dataclass, field
from typing import Any

from .job_data import JOBS, STATE_PLAN, WITHDRAWN_REASONS, JobSpec  # noqa: F401  (named here too)

PASSWORD = "demo-password-1"

NETWORKS: tuple[dict[str, Any], ...] = (  # Network's columns
    {
        "slug": "cotech", "name": "CoTech", "in_federation": True, "website": "https://www.coops.tech/",
        "description": "The network of UK tech worker co-operatives, the first industrial circle of workers.coop.",
    },
    {
        "slug": "workers-coop", "name": "workers.coop", "in_federation": True, "website": "https://workers.coop/",
        "description": "The UK federation of worker co-operatives.",
    },
)

SITE_ADMIN = {"email": "admin@example.coop", "name": "Jo Whitfield"}
COORDINATORS = (
    {"email": "coordinator@cotech.example.coop", "name": "Rowan Achterberg", "network": "cotech"},
    {"email": "coordinator@workers.example.coop", "name": "Priya Landon", "network": "workers-coop"},
)


@dataclass(frozen=True)
class CoopSpec:
    name: str
    slug: str
    location: str
    size: int
    description: str
    skills: tuple[str, ...]
    # {network slug: membership status}
    memberships: dict[str, str] = field(default_factory=dict)


ACTIVE_COTECH = {"cotech": "active"}
ACTIVE_WORKERS = {"workers-coop": "active"}
ACTIVE_BOTH = {"cotech": "active", "workers-coop": "active"}

COOPS = (
    # CoTech only
    CoopSpec(
        "Kestrel & Loom", "kestrel-and-loom", "Sheffield", 7,
        "We build **web applications** for charities, housing associations and community groups, "
        "mostly in Python and Django. Accessibility is part of every sprint, not a final audit.",
        ("websites-and-web-apps", "django", "python", "postgresql", "accessibility"),
        ACTIVE_COTECH,
    ),
    CoopSpec(
        "Saltmarsh Code Co-operative", "saltmarsh-code", "Norwich", 5,
        "Drupal and CiviCRM specialists for membership organisations and campaigning charities. "
        "We also host what we build.",
        ("drupal", "php", "cms-and-crm", "websites-and-web-apps", "cloud-hosting"),
        ACTIVE_COTECH,
    ),
    CoopSpec(
        "Lanternfish Design Co-operative", "lanternfish-design", "Brighton", 9,
        "A design studio owned by its designers: brand identities, websites and research with the "
        "people who will use them.",
        ("branding-and-identity", "web-design", "graphic-design", "user-research", "film-and-animation"),
        ACTIVE_COTECH,
    ),
    CoopSpec(
        "Copperbeech Systems", "copperbeech-systems", "Manchester", 4,
        "Infrastructure for people who would rather not think about infrastructure: Debian servers, "
        "Nextcloud, backups and on-call support from a small co-op that answers the phone.",
        ("sysadmin", "cloud-hosting", "devops", "debian", "docker", "nextcloud"),
        ACTIVE_COTECH,
    ),
    # workers.coop only
    CoopSpec(
        "Millrace Print & Media", "millrace-print-and-media", "Stroud", 12,
        "Printers and designers since the 1980s, now as much on screen as on paper. "
        "Reports, campaign materials and the websites that go with them.",
        ("print", "graphic-design", "branding-and-identity", "copywriting"),
        ACTIVE_WORKERS,
    ),
    CoopSpec(
        "Thistledown Learning Co-operative", "thistledown-learning", "Glasgow", 6,
        "Online courses and workshops for the co-operative and voluntary sectors, on Moodle "
        "and in the room.",
        ("learning-platforms", "facilitation", "co-op-development", "copywriting"),
        ACTIVE_WORKERS,
    ),
    CoopSpec(
        "Weavers' Yard Co-operative", "weavers-yard", "Huddersfield", 8,
        "Campaigns, films and social media for causes we believe in: unions, tenants and climate groups.",
        ("social-media", "strategy-and-campaigns", "film-and-animation", "copywriting"),
        ACTIVE_WORKERS,
    ),
    CoopSpec(
        "Gorse & Granite", "gorse-and-granite", "Exeter", 3,
        "Three organisational development consultants helping groups convert to co-operatives, "
        "adopt sociocracy and design services with their members.",
        ("consultancy", "sociocracy", "facilitation", "co-op-development", "service-design"),
        ACTIVE_WORKERS,
    ),
    # Both networks
    CoopSpec(
        "Fernhill Data Co-op", "fernhill-data", "Bristol", 11,
        "Data engineering and visualisation for public-interest organisations: pipelines, "
        "dashboards and open data.",
        ("data-visualisation", "database-solutions", "python", "data-integrations", "analytics", "postgresql"),
        ACTIVE_BOTH,
    ),
    CoopSpec(
        "Riverstone Digital Co-operative", "riverstone-digital", "Nottingham", 14,
        "WordPress and WooCommerce sites for small businesses and social enterprises, with SEO "
        "and training so that clients can run them themselves.",
        ("websites-and-web-apps", "wordpress", "php", "seo", "e-commerce", "web-design"),
        ACTIVE_BOTH,
    ),
    CoopSpec(
        "Ashlar Accessibility Co-op", "ashlar-accessibility", "York", 5,
        "Accessibility audits, WCAG training and user research with disabled people, for public "
        "bodies and the organisations that build for them.",
        ("accessibility", "user-research", "service-design", "html-and-css"),
        ACTIVE_BOTH,
    ),
    CoopSpec(
        "Pennywort Apps Co-operative", "pennywort-apps", "Oxford", 6,
        "Mobile and web apps in React and React Native, from prototype to the app stores.",
        ("mobile-apps", "react", "typescript", "javascript", "node-js"),
        ACTIVE_BOTH,
    ),
    CoopSpec(
        "Quarry Lane Tech Co-op", "quarry-lane-tech", "Newcastle upon Tyne", 10,
        "Ruby on Rails developers and security testers. We look after long-lived systems for "
        "councils and universities.",
        ("ruby-on-rails", "information-security", "devops", "postgresql", "gitlab"),
        ACTIVE_BOTH,
    ),
    # A sister co-op invited into the CoTech circle as a guest
    CoopSpec(
        "Kittiwake Media Co-operative", "kittiwake-media", "Belfast", 4,
        "Animation, games and interactive stories for museums and schools. Guests of the CoTech "
        "circle while our own network gets going.",
        ("film-and-animation", "game-design", "javascript", "graphic-design"),
        {"cotech": "guest"},
    ),
    # Has applied to CoTech; not vetted yet, so it sees public posts only and cannot post
    CoopSpec(
        "Seedbank Software Co-op", "seedbank-software", "Lancaster", 3,
        "A new co-op of three developers: Flask, Python and self-hosted tools for small organisations.",
        ("flask", "python", "nextcloud", "sysadmin"),
        {"cotech": "pending"},
    ),
)

# Member names are drawn (deterministically) from these.
FIRST_NAMES = (
    "Alex", "Amira", "Bea", "Callum", "Dani", "Deepa", "Eilidh", "Femi", "Gareth", "Hana", "Idris",
    "Jess", "Kai", "Lowri", "Marta", "Niamh", "Olu", "Pete", "Ravi", "Sian", "Tom", "Una", "Viv",
    "Wren", "Yusuf", "Zoe", "Ciaran", "Morgan", "Ffion", "Leon", "Aisha", "Bryony",
)
SURNAMES = (
    "Ashworth", "Baptiste", "Carrick", "Dunmore", "Ellery", "Fairclough", "Gallacher", "Hollis",
    "Iqbal", "Jarrow", "Kavanagh", "Lindqvist", "Mbeki", "Nuttall", "Okonjo", "Penhale",
    "Quayle", "Rathbone", "Sowerby", "Tennant", "Umber", "Varga", "Whitlock", "Yardley",
)

# Someone who works in two co-ops (a member of both).
TWO_COOP_MEMBER: dict[str, Any] = {
    "email": "sam@two-coops.example.coop", "name": "Sam Greatorex",
    "coops": ("kestrel-and-loom", "fernhill-data"),
}
