"""Each vendor's export, as the fake generator writes it, is recognised and read into the right lead fields."""

from __future__ import annotations

from pathlib import Path

import pytest

from halosync.config import loader
from halosync.errors import ConfigError
from halosync.plugin.manager import PluginManager
from halosync_files import plugin, readers
from halosync_files.columns import find_header
from halosync_files.detect import scan
from halosync_files.fake.generator import LAYOUTS, expected_id, people, write_csv, write_xlsx
from halosync_files.presets import PRESETS
from tests.files.helpers import collect, leads_of, make_source, rejected_of

VENDORS = sorted(LAYOUTS)


@pytest.mark.parametrize("vendor", VENDORS)
def test_detection_picks_the_vendors_preset(vendor: str, inbox: Path) -> None:
    path = write_csv(inbox / f"{vendor}.csv", vendor, people(3))
    fmt = readers.sniff(path, scan(path))
    with readers.open_rows(path, fmt) as rows:
        columns, _ = find_header(rows, list(PRESETS.values()))
    assert columns.mapping.name == vendor
    assert columns.header_row == 1


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
@pytest.mark.parametrize("vendor", VENDORS)
async def test_every_preset_reads_its_vendors_export_into_leads(vendor: str, suffix: str, inbox: Path) -> None:
    persons = list(people(12, seed=7))
    write = write_xlsx if suffix == ".xlsx" else write_csv
    write(inbox / f"export{suffix}", vendor, persons)
    source = make_source(inbox)
    pages = await collect(source)
    await source.aclose()
    leads = {lead.source_id: lead for lead in leads_of(pages)}
    assert rejected_of(pages) == []
    assert set(leads) == {expected_id(vendor, p) for p in persons}
    for p in persons:
        lead = leads[expected_id(vendor, p)]
        assert (lead.person.first_name, lead.person.last_name, lead.person.email) == (p.first, p.last, p.email)
        assert lead.person.full_name == f"{p.first} {p.last}"
        assert lead.person.title == p.title
        assert lead.company is not None and lead.company.name == p.company
        assert lead.source == "files" and lead.raw["file"] == f"export{suffix}"
        if vendor != "event":
            assert lead.person.linkedin_url == p.linkedin
            assert lead.person.country == p.country
        if vendor in ("zoominfo", "cognism", "lusha"):
            assert lead.person.phone == p.phone and lead.person.mobile == p.mobile
        if vendor in ("sales_navigator", "zoominfo", "cognism", "lusha"):
            assert lead.company.domain == p.domain
        if vendor == "event":
            assert lead.created_at is not None and lead.created_at.replace(tzinfo=None) == p.signed_up


async def test_a_custom_mapping_from_toml_reads_an_export_no_preset_knows(inbox: Path) -> None:
    (inbox / "crm.csv").write_text("Vorname,Nachname,Mail,Firma,Webseite\nJana,Novak,jana@novak.example,Novak GmbH,"
                                   "https://novak.example\n", encoding="utf-8")
    source = make_source(inbox, preset="crm", mappings={"crm": {
        "person.first_name": "Vorname", "person.last_name": "Nachname", "person.email": ["E-Mail", "Mail"],
        "company.name": "Firma", "company.website": "Webseite"}})
    pages = await collect(source)
    await source.aclose()
    [lead] = leads_of(pages)
    assert lead.source_id == "email:jana@novak.example"
    assert lead.person.full_name == "Jana Novak"
    assert lead.company is not None and (lead.company.name, lead.company.domain) == ("Novak GmbH", "novak.example")


def _config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "halosync.toml"
    path.write_text(f'[daemon]\nstate_dir = "{tmp_path}"\n\n[plugins.files]\nfolder = "{tmp_path}"\n{body}',
                    encoding="utf-8")
    return path


def _specs() -> PluginManager:
    pm = PluginManager()
    pm.register(plugin, "files")
    pm.check()
    return pm


def test_a_custom_mapping_naming_an_unknown_field_is_refused_with_its_line(tmp_path: Path) -> None:
    path = _config(tmp_path, '\n[plugins.files.mappings.crm]\n"person.emial" = "Mail"\n')
    with pytest.raises(ConfigError) as caught:
        loader.load(path, _specs().config_specs())
    [problem] = caught.value.problems
    assert "plugins.files.mappings" in problem.key and "crm.person.emial" in str(problem)
    assert "unknown target" in problem.message and "person.email" in problem.message


def test_a_valid_files_table_loads(tmp_path: Path) -> None:
    path = _config(tmp_path, 'preset = "zoominfo"\nlabels = ["trade-show"]\n')
    config = loader.load(path, _specs().config_specs())
    table = config.plugin("files")
    assert table is not None and table["preset"] == "zoominfo" and table["page_rows"] == 500
