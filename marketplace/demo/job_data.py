"""The demo's jobs: what each one asks for, and how many end up in each state. Apart from ``data``
(the networks, co-ops and people) because the jobs are most of the demo world's text, and are
changed on their own."""
from dataclasses import dataclass


@dataclass(frozen=True)
class JobSpec:
    title: str
    summary: str
    kind: str
    skills: tuple[str, ...]
    background: str
    scope: tuple[str, ...]
    budget_type: str = "fixed"
    budget_min: int = 0
    budget_max: int | None = None
    work_mode: str = "remote"
    location: str = ""
    partners: bool = False
    currency: str = "GBP"
    # Evaluation criteria: (name, weight in per cent), adding up to 100; none: bids are not scored.
    criteria: tuple[tuple[str, int], ...] = ()


JOBS = (
    JobSpec(
        "Accessible booking system for a community energy co-op",
        "A community energy co-op wants members to book home energy surveys online, replacing a paper diary.",
        "tender", ("websites-and-web-apps", "accessibility", "django"),
        "The co-op's volunteers visit around 400 homes a year. Bookings arrive by phone and are written in a diary.",
        ("Online booking with reminders by email and text", "An admin view for the volunteer rota",
         "WCAG 2.2 AA, tested with screen reader users"),
        budget_min=14000, budget_max=18000,
        criteria=(("Technical approach", 50), ("Accessibility experience", 30), ("Price", 20)),
    ),
    JobSpec(
        "Drupal 7 to Drupal 10 migration for a housing charity",
        "Move a large Drupal 7 site with CiviCRM integration to Drupal 10 before the end of support.",
        "subcontract", ("drupal", "php", "cms-and-crm"),
        "We are the lead contractor and need a second team for the content migration while we rebuild the theme.",
        ("Migrate 3,000 nodes and their files", "Keep CiviCRM contact sync working", "Redirects for every old URL"),
        budget_type="day_rate", budget_min=400, budget_max=450,
    ),
    JobSpec(
        "Brand refresh for a city-centre food co-op",
        "A worker-owned grocery wants a new identity for its second shop, on signs, bags and the web.",
        "lead", ("branding-and-identity", "graphic-design", "print"),
        "The client came to us, but our designers are booked until the spring.",
        ("Logo and colour palette", "Shop signage and bag design", "A short brand guide"),
        budget_min=6000, budget_max=9000, work_mode="hybrid", location="Leeds",
    ),
    JobSpec(
        "Nextcloud hosting and support for a tenants' union",
        "Host Nextcloud for 60 organisers with backups, single sign-on and a support line.",
        "tender", ("nextcloud", "cloud-hosting", "sysadmin"),
        "The union runs on shared Google accounts and wants to own its data.",
        ("Hosting in the UK with daily off-site backups", "Single sign-on with their existing accounts",
         "Support for organisers during office hours"),
        budget_min=4500, budget_max=6000,
        criteria=(("Support and reliability", 50), ("Price", 30), ("Cultural fit", 20)),
    ),
    JobSpec(
        "Data dashboard for a regional food poverty alliance",
        "Bring referral data from 30 food banks into one dashboard for funders and volunteers.",
        "tender", ("data-visualisation", "data-integrations", "python"),
        "Each food bank keeps its own spreadsheet; the alliance reports to funders quarterly by hand.",
        ("A shared data model and import from spreadsheets", "Public and private dashboards",
         "Documentation so that volunteers can maintain it"),
        budget_min=20000, budget_max=28000, partners=True,
        criteria=(("Technical approach", 60), ("Cultural fit", 20), ("Price", 20)),
    ),
    JobSpec(
        "React Native developer for a cycling charity app",
        "Two developers for eight weeks to finish a route-planning app for a cycling charity.",
        "subcontract", ("mobile-apps", "react", "typescript"),
        "We lead the project and have the design done; we need more hands for the build.",
        ("Offline maps and saved routes", "Accessibility of the app's controls", "Release to both app stores"),
        budget_type="day_rate", budget_min=375, budget_max=425,
    ),
    JobSpec(
        "WCAG 2.2 audit of a council's housing repairs service",
        "Audit the online repairs service of a metropolitan council and help its team fix what is found.",
        "tender", ("accessibility", "user-research", "html-and-css"),
        "The council must publish an accessibility statement and wants an independent audit first.",
        ("Audit against WCAG 2.2 AA", "Testing sessions with disabled residents", "A prioritised fix list"),
        budget_min=9000, budget_max=12000, work_mode="hybrid", location="Wakefield",
        criteria=(("Research method", 40), ("Accessibility experience", 40), ("Price", 20)),
    ),
    JobSpec(
        "Moodle course for new co-op directors",
        "Turn a one-day training for new co-op directors into a self-paced online course.",
        "tender", ("learning-platforms", "co-op-development", "copywriting"),
        "The course is taught in person twice a year and always oversubscribed.",
        ("Six modules with short videos and quizzes", "Certificates of completion", "Hosting for two years"),
        budget_min=7500, budget_max=10000,
    ),
    JobSpec(
        "Campaign film for a climate housing retrofit campaign",
        "A three-minute film and social media cut-downs for a national retrofit campaign.",
        "lead", ("film-and-animation", "social-media", "strategy-and-campaigns"),
        "A long-standing client asked us, but it is outside what we do.",
        ("Script with the campaign team", "Filming in two homes", "Cut-downs for social media"),
        budget_min=8000, budget_max=11000,
    ),
    JobSpec(
        "Penetration test of a university research portal",
        "Test the security of a Rails research portal before it opens to external partners.",
        "subcontract", ("information-security", "ruby-on-rails"),
        "We maintain the portal and the university asks for an independent test each year.",
        ("Authenticated and unauthenticated testing", "A report with severities", "A retest after fixes"),
        budget_min=5000, budget_max=6500,
    ),
    JobSpec(
        "WooCommerce shop for a worker-owned bakery",
        "An online shop with click-and-collect slots for a bakery with three branches.",
        "tender", ("e-commerce", "wordpress", "web-design"),
        "Orders are taken by phone today; the bakery wants to cut waste by knowing demand in advance.",
        ("Shop with collection slots per branch", "Stock levels from the till system", "Training for staff"),
        budget_min=6000, budget_max=8500, work_mode="hybrid", location="Sheffield",
    ),
    JobSpec(
        "Facilitation of a federation strategy day",
        "Facilitate a one-day strategy session for about 40 delegates of a co-op federation.",
        "lead", ("facilitation", "sociocracy"),
        "The date clashes with another booking of ours.",
        ("Design of the day with the organising group", "Facilitation on the day", "A written summary"),
        budget_min=1500, budget_max=2000, work_mode="on_site", location="Birmingham",
    ),
    JobSpec(
        "Kubernetes to plain Debian: simplify a charity's hosting",
        "Move five small web apps off an over-engineered Kubernetes cluster onto two Debian servers.",
        "tender", ("devops", "debian", "docker"),
        "The charity inherited the cluster from a volunteer and nobody can maintain it.",
        ("An inventory and migration plan", "Migration with no data loss", "Monitoring and handover notes"),
        budget_min=5500, budget_max=7500,
    ),
    JobSpec(
        "User research with young carers for a support app",
        "Interview and test prototypes with young carers to shape a support app for a national charity.",
        "subcontract", ("user-research", "service-design", "accessibility"),
        "We are building the app and need researchers experienced with young people and safeguarding.",
        ("Recruitment through the charity's services", "Twelve interviews and two rounds of testing",
         "Findings presented to the charity's board"),
        budget_type="day_rate", budget_min=450, budget_max=500, partners=True,
    ),
    JobSpec(
        "Open data portal for a network of community land trusts",
        "Publish land and housing data from 80 community land trusts as open data with a map.",
        "tender", ("data-integrations", "postgresql", "data-visualisation", "websites-and-web-apps"),
        "The network collects the data yearly but it sits in a spreadsheet nobody outside can use.",
        ("A data standard agreed with members", "An open API and downloads", "An interactive map"),
        budget_min=30000, budget_max=40000, partners=True,
    ),
    JobSpec(
        "Print run of annual reports for a credit union",
        "Design and print 2,000 copies of a 24-page annual report on recycled stock.",
        "lead", ("print", "graphic-design"),
        "The credit union is a good client of ours but we do not print.",
        ("Layout from supplied copy", "Proofs and one round of changes", "Delivery to five branches"),
        budget_min=3500, budget_max=4500, work_mode="on_site", location="Bradford",
    ),
    JobSpec(
        "SEO and content review for a fair-trade importer",
        "Review the site's search performance and rewrite the top twenty product pages.",
        "subcontract", ("seo", "copywriting", "analytics"),
        "We are rebuilding the shop and the client asked for content work alongside it.",
        ("A search audit with Matomo data", "Rewritten product pages", "A simple reporting dashboard"),
        budget_min=3000, budget_max=4000,
    ),
    JobSpec(
        "Membership CRM for a regional co-op development body",
        "Replace spreadsheets with a CRM that tracks enquiries, support given and outcomes.",
        "tender", ("cms-and-crm", "co-op-development", "data-integrations"),
        "Advisers log support in four different spreadsheets and the funder's report takes a week.",
        ("Contact, enquiry and case records", "Reports in the funder's format", "Migration of five years of data"),
        budget_min=12000, budget_max=16000,
    ),
    JobSpec(
        "Interactive museum trail for a mining heritage centre",
        "A browser-based trail game that visitors play on their phones around the site.",
        "tender", ("game-design", "javascript", "film-and-animation"),
        "The centre reopens after refurbishment and wants something for families.",
        ("Story and puzzles with the curators", "Works offline on visitors' phones", "Animated characters"),
        budget_min=15000, budget_max=20000, work_mode="hybrid", location="Durham", partners=True,
    ),
    JobSpec(
        "Flask API maintenance for a food-sharing network",
        "Ongoing maintenance of a Flask API and its PostgreSQL database, about two days a month.",
        "lead", ("flask", "python", "postgresql"),
        "We built it years ago and no longer work in Python.",
        ("Security updates and dependency upgrades", "Small features on request", "Monthly backups check"),
        budget_type="day_rate", budget_min=350, budget_max=400,
    ),
    JobSpec(
        "Sociocracy training for a growing housing co-op",
        "Three workshops introducing consent decision-making to a housing co-op of 70 members.",
        "subcontract", ("sociocracy", "facilitation", "co-op-development"),
        "We are supporting the co-op's restructuring and need a trainer for the governance part.",
        ("Three evening workshops", "Templates for circles and roles", "Follow-up call after three months"),
        budget_min=2400, budget_max=3000, work_mode="on_site", location="Liverpool",
    ),
    JobSpec(
        "GitLab CI pipelines for a public sector consortium",
        "Set up shared CI/CD pipelines and runners for six partner organisations.",
        "subcontract", ("gitlab", "devops", "docker"),
        "Our consortium won the framework; this piece needs specialist DevOps skills.",
        ("Shared pipeline templates", "Self-hosted runners", "Documentation and a training session"),
        budget_type="day_rate", budget_min=425, budget_max=475,
    ),
    JobSpec(
        "Website and donations for a refugee legal advice charity",
        "A new website with secure online donations and an accessible advice finder.",
        "tender", ("websites-and-web-apps", "web-design", "accessibility", "wordpress"),
        "The charity's site was built by a volunteer in 2012 and cannot take donations.",
        ("Content design with caseworkers", "Donations with Gift Aid", "Advice finder in four languages"),
        budget_min=16000, budget_max=22000,
    ),
    JobSpec(
        "Animated explainer on how worker co-ops share profits",
        "A 90-second animation for the federation's website and workshops.",
        "tender", ("film-and-animation", "copywriting"),
        "New co-ops keep asking the same question; a short film would answer it.",
        ("Script and storyboard", "Animation with captions", "A version without words for workshops"),
        budget_min=4000, budget_max=5500,
    ),
    JobSpec(
        "Analytics without tracking for a mutual insurer",
        "Replace Google Analytics with self-hosted Matomo and a privacy-friendly consent setup.",
        "lead", ("analytics", "cloud-hosting", "sysadmin"),
        "The client asked us but it is a hosting and analytics job more than design.",
        ("Self-hosted Matomo in the UK", "Migration of goals and reports", "Cookie-less configuration"),
        budget_min=3000, budget_max=4000,
    ),
    JobSpec(
        "Node.js developer for a volunteering platform",
        "Join our team for three months on a volunteering platform used by 200 charities.",
        "subcontract", ("node-js", "typescript", "postgresql"),
        "The platform is growing faster than our team.",
        ("Features from our backlog", "Code review and pairing", "On-call one week in four"),
        budget_type="day_rate", budget_min=400, budget_max=450,
    ),
    JobSpec(
        "Digital strategy for a network of community pubs",
        "Help a network of 50 community-owned pubs decide what to build together and what to buy.",
        "tender", ("strategy-and-campaigns", "service-design", "consultancy"),
        "Each pub runs its own website, bookings and newsletters, and they pay for the same things many times.",
        ("Interviews with pub committees", "Options with costs", "A two-year roadmap"),
        budget_min=10000, budget_max=14000, partners=True,
    ),
    JobSpec(
        "Security review of a co-op bank's partner portal",
        "An independent review of the security of a partner portal and its hosting.",
        "tender", ("information-security", "cloud-hosting"),
        "The portal is used by credit unions to exchange documents.",
        ("Threat model with the team", "Configuration review", "Report and retest"),
        budget_min=8000, budget_max=10000, currency="EUR",
    ),
    JobSpec(
        "Illustrations for a children's book on co-operation",
        "Twelve full-page illustrations for a picture book published by a co-operative press.",
        "lead", ("graphic-design",),
        "We are writing the book but have no illustrator in the co-op.",
        ("Character sketches", "Twelve final illustrations", "Cover artwork"),
        budget_min=3600, budget_max=3600,
    ),
    JobSpec(
        "Rails upgrade for a student housing co-op's lettings system",
        "Upgrade a Rails 5 lettings system to Rails 7 with tests, without disturbing the autumn intake.",
        "tender", ("ruby-on-rails", "postgresql"),
        "The system works but cannot be patched any more.",
        ("Upgrade in small releases", "Raise test coverage of lettings", "Deploy outside the busy weeks"),
        budget_min=9000, budget_max=13000,
    ),
    JobSpec(
        "Social media support during a union recognition campaign",
        "Three months of social media content and community management for a recognition campaign.",
        "subcontract", ("social-media", "copywriting", "strategy-and-campaigns"),
        "We run the campaign strategy and need people to run the channels day to day.",
        ("Daily posts on three platforms", "Replies and moderation", "A weekly report"),
        budget_type="day_rate", budget_min=300, budget_max=350,
    ),
    JobSpec(
        "Learning platform hosting for adult education co-op",
        "Host and support a Moodle site for 1,500 learners, with upgrades twice a year.",
        "tender", ("learning-platforms", "cloud-hosting", "sysadmin"),
        "The current host is closing its education service.",
        ("Migration with no loss of course data", "Twice-yearly upgrades", "Support for the tutors"),
        budget_min=5000, budget_max=7000,
    ),
    JobSpec(
        "Map of worker co-ops for a federation website",
        "An embeddable, accessible map of member co-ops with search by sector and town.",
        "lead", ("data-visualisation", "javascript", "accessibility"),
        "It fits our skills but we are fully booked until next year.",
        ("Import from the member directory", "Keyboard and screen reader friendly map", "Embeddable widget"),
        budget_min=4000, budget_max=6000,
    ),
    JobSpec(
        "Service design for a community transport booking line",
        "Redesign how older and disabled passengers book community transport, on and off line.",
        "tender", ("service-design", "user-research", "accessibility"),
        "Bookings are by phone only and the line is engaged most mornings.",
        ("Research with passengers and drivers", "Service blueprint", "A tested prototype of online booking"),
        budget_min=11000, budget_max=15000, work_mode="hybrid", location="Hull",
    ),
    JobSpec(
        "PHP developer for CiviCRM extensions",
        "Write two CiviCRM extensions for membership renewals and Gift Aid claims.",
        "subcontract", ("php", "cms-and-crm", "mysql"),
        "We need someone who knows CiviCRM's extension system well.",
        ("Renewal reminders extension", "Gift Aid batch export", "Tests and documentation"),
        budget_type="day_rate", budget_min=380, budget_max=420,
    ),
    JobSpec(
        "Newsletter templates and copy for a renewable energy co-op",
        "Design email templates and write the first three member newsletters.",
        "lead", ("copywriting", "web-design"),
        "Small job, good client, not our area.",
        ("Two responsive email templates", "Copy for three newsletters", "A short style guide"),
        budget_min=1800, budget_max=2500,
    ),
    JobSpec(
        "Django developers for a consortium bid to a health board",
        "Partners wanted for a bid to build a volunteer management system for an NHS health board.",
        "tender", ("django", "python", "user-research"),
        "We intend to bid as a consortium and are looking for two co-ops to join us.",
        ("Discovery with volunteers and staff", "Alpha and beta build", "Support for two years"),
        budget_min=80000, budget_max=120000, partners=True,
    ),
    JobSpec(
        "E-commerce integration with a co-op wholesaler",
        "Connect a shop's stock and orders to a co-operative wholesaler's ordering API.",
        "subcontract", ("e-commerce", "data-integrations", "php"),
        "We built the shop; the wholesaler's API is new to us.",
        ("Nightly stock sync", "Order export", "Error alerts"),
        budget_min=4000, budget_max=5000,
    ),
    JobSpec(
        "Visual identity for a new platform co-op",
        "Name, logo and website design for a platform co-op of freelance translators.",
        "tender", ("branding-and-identity", "web-design", "copywriting"),
        "The co-op launches in the spring and has no identity yet.",
        ("Naming workshop", "Logo and type", "Design of the first website"),
        budget_min=7000, budget_max=9500,
    ),
    JobSpec(
        "On-call cover for a co-op hosting provider",
        "Share the out-of-hours on-call rota of a small hosting co-op for six months.",
        "subcontract", ("sysadmin", "debian", "devops"),
        "Two of our four sysadmins are on parental leave this year.",
        ("One week in three out of hours", "Runbooks provided", "Monthly review call"),
        budget_type="day_rate", budget_min=250, budget_max=300,
    ),
)

# Why a demo job was withdrawn (shown on its page).
WITHDRAWN_REASONS = (
    "The client has postponed the project until next financial year.",
    "The funding bid behind this work was unsuccessful.",
    "The client decided to do this work in house.",
    "Posted twice by mistake: see the newer post.",
    "The scope changed so much that we will post it again.",
)

# How many demo jobs end up in each state.
STATE_PLAN = {"open": 22, "closed": 8, "draft": 5, "withdrawn": 5}
