"""The field and module metadata the emulator serves (docs/reference/zoho.md §7), and what it validates writes against.

Leads carry Zoho's default fields. Accounts, Contacts and Deals exist only as metadata because the SDK
follows the `lookup` fields of Leads (Converted_Account, …) and fetches those modules' fields too.
"""

from __future__ import annotations

from dataclasses import dataclass

JSON_TYPES = {
    "text": "string",
    "textarea": "string",
    "email": "string",
    "phone": "string",
    "website": "string",
    "picklist": "string",
    "multiselectpicklist": "jsonarray",
    "profileimage": "string",
    "integer": "integer",
    "bigint": "string",
    "currency": "double",
    "double": "double",
    "boolean": "boolean",
    "datetime": "string",
    "date": "string",
    "ownerlookup": "jsonobject",
    "lookup": "jsonobject",
    "layout": "jsonobject",
}


@dataclass(frozen=True)
class FieldSpec:
    """One field of a module: its API name, type, limits and whether the API may write it."""

    api_name: str
    label: str
    data_type: str
    length: int | None = None
    mandatory: bool = False
    read_only: bool = False
    picklist: tuple[str, ...] = ()
    lookup_module: str | None = None
    json_type: str | None = None
    custom: bool = False


def _f(api_name: str, data_type: str, length: int | None = None, label: str | None = None, **kw: object) -> FieldSpec:
    return FieldSpec(api_name, label or api_name.replace("_", " "), data_type, length, **kw)  # type: ignore[arg-type]


_SALUTATIONS = ("-None-", "Mr.", "Mrs.", "Ms.", "Dr.", "Prof.")
_LEAD_SOURCES = (
    "-None-", "Advertisement", "Cold Call", "Employee Referral", "External Referral", "Online Store",
    "X (Twitter)", "Facebook", "Partner", "Public Relations", "Sales Email Alias", "Seminar Partner",
    "Internal Seminar", "Trade Show", "Web Download", "Web Research", "Chat",
)  # fmt: skip
_LEAD_STATUSES = (
    "-None-", "Attempted to Contact", "Contact in Future", "Contacted", "Junk Lead", "Lost Lead",
    "Not Contacted", "Pre-Qualified", "Not Qualified",
)  # fmt: skip
_INDUSTRIES = (
    "-None-", "ASP (Application Service Provider)", "Data/Telecom OEM", "ERP (Enterprise Resource Planning)",
    "Government/Military", "Large Enterprise", "ManagementISV", "MSP (Management Service Provider)",
    "Network Equipment Enterprise", "Non-management ISV", "Optical Networking", "Service Provider",
    "Small/Medium Enterprise", "Storage Equipment", "Storage Service Provider", "Systems Integrator",
    "Wireless Industry",
)  # fmt: skip
_RATINGS = ("-None-", "Acquired", "Active", "Market Failed", "Project Cancelled", "Shut Down")

LEADS: tuple[FieldSpec, ...] = (
    _f("Owner", "ownerlookup", label="Lead Owner"),
    _f("Salutation", "picklist", 25, picklist=_SALUTATIONS),
    _f("First_Name", "text", 40),
    _f("Last_Name", "text", 80, mandatory=True),
    _f("Full_Name", "text", 120, label="Lead Name", read_only=True),
    _f("Company", "text", 200),
    _f("Designation", "text", 100, label="Title"),
    _f("Email", "email", 100),
    _f("Secondary_Email", "email", 100),
    _f("Phone", "phone", 30),
    _f("Mobile", "phone", 30),
    _f("Fax", "text", 30),
    _f("Website", "website", 255),
    _f("Lead_Source", "picklist", 120, picklist=_LEAD_SOURCES),
    _f("Lead_Status", "picklist", 120, picklist=_LEAD_STATUSES),
    _f("Industry", "picklist", 120, picklist=_INDUSTRIES),
    _f("Rating", "picklist", 120, picklist=_RATINGS),
    _f("No_of_Employees", "integer", 9, label="No. of Employees"),
    _f("Annual_Revenue", "currency", 16),
    _f("Email_Opt_Out", "boolean"),
    _f("Skype_ID", "text", 50),
    _f("Twitter", "text", 50),
    _f("Street", "text", 250),
    _f("City", "text", 100),
    _f("State", "text", 100),
    _f("Zip_Code", "text", 30),
    _f("Country", "text", 100),
    _f("Description", "textarea", 32000),
    _f("Tag", "text", 2000, read_only=True, json_type="jsonarray"),
    _f("Layout", "layout", read_only=True),
    _f("Record_Image", "profileimage", 255, label="Lead Image", read_only=True),
    _f("Converted_Account", "lookup", read_only=True, lookup_module="Accounts"),
    _f("Converted_Contact", "lookup", read_only=True, lookup_module="Contacts"),
    _f("Converted_Deal", "lookup", read_only=True, lookup_module="Deals"),
    _f("Converted__s", "boolean", label="Is Converted", read_only=True),
    _f("Converted_Date_Time", "datetime", read_only=True),
    _f("Created_By", "ownerlookup", read_only=True),
    _f("Modified_By", "ownerlookup", read_only=True),
    _f("Created_Time", "datetime", read_only=True),
    _f("Modified_Time", "datetime", read_only=True),
    _f("Last_Activity_Time", "datetime", read_only=True),
    _f("Record_Status__s", "picklist", 120, label="Record Status", read_only=True, picklist=("Available", "Draft")),
)

# A picklist longer than a Slack menu holds (100 options): 120 programmes an admissions team recruits for.
_PROGRAMMES = ("-None-",) + tuple(
    f"{level} {subject}"
    for subject in (
        "Accounting", "Architecture", "Biology", "Business", "Chemistry", "Computer Science", "Design", "Economics",
        "Education", "Engineering", "English", "Finance", "Geography", "History", "Law", "Linguistics",
        "Marketing", "Mathematics", "Medicine", "Music", "Nursing", "Philosophy", "Physics", "Politics",
        "Psychology", "Public Health", "Sociology", "Statistics", "Theatre", "Tourism",
    )
    for level in ("BA", "BSc", "MA", "MSc")
)  # fmt: skip

# The custom fields this emulated org made (one of each kind the bot converts specially, and a picklist and a
# phone number the form can only check with the org's fields); Zoho names a custom field's API name after its label.
CUSTOM_LEADS: tuple[FieldSpec, ...] = (
    _f("Deal_Size", "currency", 16, label="Deal size", custom=True),
    _f("Customer_Tier", "picklist", 120, label="Customer tier", custom=True,
       picklist=("-None-", "Gold", "Silver", "Bronze")),
    _f("Follow_Up_Date", "date", label="Follow-up date", custom=True),
    _f("Products", "multiselectpicklist", 2000, label="Products of interest", custom=True,
       picklist=("Widgets", "Gadgets", "Support plan")),
    _f("Programme", "picklist", 120, label="Programme of interest", custom=True, picklist=_PROGRAMMES),
    _f("Assistant_Phone", "phone", 30, label="Assistant's phone", custom=True),
)  # fmt: skip
LEADS = LEADS + CUSTOM_LEADS

# The sections of the Leads layout, by API name, in the layout's order (what is not named goes last).
LAYOUT_SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Lead Information",
        ("Owner", "Salutation", "First_Name", "Last_Name", "Company", "Designation", "Email", "Secondary_Email",
         "Phone", "Mobile", "Fax", "Website", "Lead_Source", "Lead_Status", "Industry", "Rating", "No_of_Employees",
         "Annual_Revenue", "Email_Opt_Out", "Skype_ID", "Twitter"),
    ),
    ("Address Information", ("Street", "City", "State", "Zip_Code", "Country")),
    ("Sales Details", ("Deal_Size", "Customer_Tier", "Follow_Up_Date", "Products", "Programme", "Assistant_Phone")),
    ("Description Information", ("Description",)),
)  # fmt: skip
LAYOUT_ID = "5725767000000091055"

_AUDIT = (
    _f("Created_By", "ownerlookup", read_only=True),
    _f("Modified_By", "ownerlookup", read_only=True),
    _f("Created_Time", "datetime", read_only=True),
    _f("Modified_Time", "datetime", read_only=True),
)

OTHER_MODULES: dict[str, tuple[FieldSpec, ...]] = {
    "Accounts": (
        _f("Owner", "ownerlookup", label="Account Owner"),
        _f("Account_Name", "text", 200, mandatory=True),
        _f("Phone", "phone", 30),
        _f("Website", "website", 255),
        *_AUDIT,
    ),
    "Contacts": (
        _f("Owner", "ownerlookup", label="Contact Owner"),
        _f("First_Name", "text", 40),
        _f("Last_Name", "text", 80, mandatory=True),
        _f("Email", "email", 100),
        _f("Phone", "phone", 30),
        *_AUDIT,
    ),
    "Deals": (
        _f("Owner", "ownerlookup", label="Deal Owner"),
        _f("Deal_Name", "text", 120, mandatory=True),
        _f("Stage", "picklist", 120, mandatory=True, picklist=("Qualification", "Needs Analysis", "Closed Won")),
        _f("Amount", "currency", 16),
        _f("Closing_Date", "date", mandatory=True),
        *_AUDIT,
    ),
}

MODULE_IDS = {"Leads": "5725767000000002175", "Accounts": "5725767000000002177",
              "Contacts": "5725767000000002179", "Deals": "5725767000000002181"}  # fmt: skip

LEADS_BY_NAME = {f.api_name: f for f in LEADS}


def module_api_name(name: str) -> str | None:
    """The canonical API name of a module (case-insensitive), or None if this Zoho has no such module."""
    for known in MODULE_IDS:
        if known.lower() == name.lower():
            return known
    return None


def fields_of(module: str) -> tuple[FieldSpec, ...]:
    """The fields of a module given by its canonical API name."""
    return LEADS if module == "Leads" else OTHER_MODULES[module]


def field_json(module: str, index: int, spec: FieldSpec) -> dict[str, object]:
    """One entry of `GET /settings/fields` as Zoho writes it (the keys the SDK reads, plus a few more)."""
    field_id = str(int(MODULE_IDS[module]) + 1000 + index)
    out: dict[str, object] = {
        "api_name": spec.api_name,
        "field_label": spec.label,
        "display_label": spec.label,
        "data_type": spec.data_type,
        "json_type": spec.json_type or JSON_TYPES.get(spec.data_type, "string"),
        "length": spec.length if spec.length is not None else 120,
        "system_mandatory": spec.mandatory,
        "read_only": spec.read_only,
        "field_read_only": spec.read_only,
        "custom_field": spec.custom,
        "visible": True,
        "sortable": spec.api_name in ("Created_Time", "Modified_Time"),
        "searchable": spec.data_type in ("text", "email", "phone"),
        "webhook": True,
        "id": field_id,
        "view_type": {"view": True, "edit": not spec.read_only, "create": not spec.read_only, "quick_create": False},
        "pick_list_values": [
            {"display_value": v, "actual_value": v, "sequence_number": i + 1, "type": "used", "id": f"{field_id}{i}"}
            for i, v in enumerate(spec.picklist)
        ],
    }
    if spec.lookup_module is not None:
        out["lookup"] = {
            "display_label": spec.label,
            "api_name": spec.api_name,
            "module": {"api_name": spec.lookup_module, "id": MODULE_IDS[spec.lookup_module]},
            "id": str(int(field_id) + 500),
        }
    return out


def fields_payload(module: str) -> dict[str, object]:
    """The body of `GET /crm/v8/settings/fields?module=<module>`."""
    return {"fields": [field_json(module, i, f) for i, f in enumerate(fields_of(module))]}


def layouts_payload(required: frozenset[str]) -> dict[str, object]:
    """The body of `GET /crm/v8/settings/layouts?module=Leads`: one "Standard" layout whose sections list the
    Leads fields, `required` being the ones this layout makes mandatory (besides Zoho's own `Last_Name`)."""
    sections = []
    for seq, (name, api_names) in enumerate(LAYOUT_SECTIONS, start=1):
        items = []
        for api_name in api_names:
            spec = LEADS_BY_NAME[api_name]
            entry = field_json("Leads", LEADS.index(spec), spec)
            entry["required"] = spec.mandatory or api_name in required
            entry["sequence_number"] = len(items) + 1
            items.append(entry)
        sections.append(
            {"display_label": name, "name": name, "api_name": name.replace(" ", "_"), "sequence_number": seq,
             "column_count": 2, "id": f"{LAYOUT_ID}{seq}", "fields": items}
        )  # fmt: skip
    layout = {"id": LAYOUT_ID, "name": "Standard", "display_label": "Standard", "api_name": "Standard",
              "visible": True, "status": "active", "sections": sections}  # fmt: skip
    return {"layouts": [layout]}


def modules_payload() -> dict[str, object]:
    """The body of `GET /crm/v8/settings/modules`."""
    modules = []
    for seq, (name, module_id) in enumerate(MODULE_IDS.items(), start=1):
        singular = name[:-1]
        modules.append(
            {
                "api_name": name,
                "module_name": name,
                "singular_label": singular,
                "plural_label": name,
                "id": module_id,
                "api_supported": True,
                "generated_type": "default",
                "creatable": True,
                "editable": True,
                "deletable": True,
                "viewable": True,
                "visible": True,
                "show_as_tab": True,
                "sequence_number": seq,
                "global_search_supported": True,
            }
        )
    return {"modules": modules}
