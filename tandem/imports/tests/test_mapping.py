"""Columns map themselves from our names, common spellings, HubSpot and Salesforce exports."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from tandem.imports.mapping import (
    auto_mapping,
    clean_mapping,
    country_for,
    infer_type,
    stage_for,
    suggest_mapping,
)
from tandem.people.models import CustomField

HUBSPOT_CONTACTS = [
    "Record ID", "First Name", "Last Name", "Email", "Phone Number", "Mobile Phone Number",
    "Job Title", "Company Name", "Street Address", "City", "State/Region", "Postal Code",
    "Country/Region", "Lifecycle Stage", "Lead Status", "Contact owner", "Original Source",
    "Create Date",
]  # fmt: skip
SALESFORCE_CONTACTS = [
    "Id", "FirstName", "LastName", "Email", "Phone", "MobilePhone", "Title", "Account Name",
    "MailingStreet", "MailingCity", "MailingState", "MailingPostalCode", "MailingCountry",
    "LeadSource", "Owner", "CreatedDate",
]  # fmt: skip


def test_hubspot_contact_export_maps_itself():
    mapping = suggest_mapping(HUBSPOT_CONTACTS, "people")
    assert mapping == {
        "Record ID": None,
        "First Name": "first_name",
        "Last Name": "last_name",
        "Email": "email",
        "Phone Number": "phone",
        "Mobile Phone Number": None,  # one phone: the likelier spelling wins
        "Job Title": "title",
        "Company Name": "company",
        "Street Address": "street",
        "City": "city",
        "State/Region": "region",
        "Postal Code": "postcode",
        "Country/Region": "country",
        "Lifecycle Stage": "stage",  # not Lead Status
        "Lead Status": None,
        "Contact owner": "owner",
        "Original Source": "source",
        "Create Date": "created_at",
    }


def test_salesforce_contact_export_maps_itself():
    mapping = suggest_mapping(SALESFORCE_CONTACTS, "people")
    assert {h: t for h, t in mapping.items() if t} == {
        "FirstName": "first_name",
        "LastName": "last_name",
        "Email": "email",
        "Phone": "phone",
        "Title": "title",
        "Account Name": "company",
        "MailingStreet": "street",
        "MailingCity": "city",
        "MailingState": "region",
        "MailingPostalCode": "postcode",
        "MailingCountry": "country",
        "LeadSource": "source",
        "Owner": "owner",
        "CreatedDate": "created_at",
    }


def test_salesforce_lead_export_uses_company_and_status():
    mapping = suggest_mapping(
        ["First Name", "Last Name", "Company", "Status", "Lead Source"], "people"
    )
    assert mapping == {
        "First Name": "first_name",
        "Last Name": "last_name",
        "Company": "company",
        "Status": "stage",
        "Lead Source": "source",
    }


def test_our_own_names_and_common_spellings():
    assert suggest_mapping(["first_name", "E-mail", "Zip", "Tel", "Name"], "people") == {
        "first_name": "first_name",
        "E-mail": "email",
        "Zip": "postcode",
        "Tel": "phone",
        "Name": "full_name",
    }


def test_company_export_headers():
    mapping = suggest_mapping(
        [
            "Company name",
            "Company Domain Name",
            "Industry",
            "Number of Employees",
            "Country/Region",
        ],
        "companies",
    )
    assert list(mapping.values()) == ["name", "domain", "industry", "size", "country"]


@pytest.mark.django_db
def test_custom_fields_are_suggested_by_key_or_label():
    budget = CustomField.objects.create(
        entity="person", key="budget", label="Budget (EUR)", field_type="number"
    )
    mapping = suggest_mapping(["Email", "Budget (EUR)"], "people", [budget])
    assert mapping["Budget (EUR)"] == "custom:budget"


def test_lifecycle_values_of_other_crms_map_to_our_stages():
    assert stage_for("marketingqualifiedlead") == "mql"
    assert stage_for("Marketing Qualified Lead") == "mql"
    assert stage_for("salesqualifiedlead") == "sal"
    assert stage_for("evangelist") == "advocate"
    assert stage_for("Opportunity") == "opportunity"
    assert stage_for("Closed - Not Converted") == "disqualified"
    assert stage_for("Hot") is None
    assert stage_for("Hot", {"hot": "mql"}) == "mql"


def test_countries_by_code_or_name_in_several_languages():
    assert country_for("de") == "DE"
    assert country_for("Germany") == "DE"
    assert country_for("Deutschland") == "DE"
    assert country_for("United States") == "US"
    assert country_for("USA") == "US"
    assert country_for("Atlantis") == "Atlantis"


def test_types_are_inferred_from_values():
    assert infer_type(["1", "2.5", "-3"]) == "number"
    assert infer_type(["2024-01-31", ""]) == "date"
    assert infer_type(["yes", "No", "TRUE"]) == "bool"
    assert infer_type(["1", "x"]) == "text"
    assert infer_type([]) == "text"


def test_create_fields_turns_other_columns_into_typed_new_fields():
    mapping = auto_mapping(
        ["Email", "Budget", "Renewal"],
        "people",
        [],
        create_fields=True,
        samples={"Budget": ["100", "2.5"], "Renewal": ["2025-01-01"]},
    )
    assert mapping["columns"] == {
        "Email": "email",
        "Budget": "custom:budget",
        "Renewal": "custom:renewal",
    }
    assert mapping["new_fields"]["Budget"] == {"key": "budget", "type": "number", "label": "Budget"}
    assert mapping["new_fields"]["Renewal"]["type"] == "date"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        ({"Nope": "email"}, "no column 'Nope'"),
        ({"Email": "favourite"}, "'favourite' is not a field"),
        ({"Email": "email", "Mail": "email"}, "both go to email"),
        ({"Email": "custom:budget"}, "no custom field 'budget'"),
        ({"Email": None, "Mail": None}, "Map at least an email or a name"),
    ],
)
def test_bad_mappings_say_what_to_fix(columns, expected):
    with pytest.raises(ValidationError) as caught:
        clean_mapping(
            {"columns": columns}, headers=["Email", "Mail"], entity="people", custom_fields=[]
        )
    assert expected in " ".join(caught.value.message_dict["mapping"])
