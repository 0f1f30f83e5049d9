"""A Renku 0.x (schema 8) project built in code, shaped like ciyer/inflation's metadata
(../shared/fixtures/real/renku-v0-yaml): expanded JSON-LD in YAML, hosts to rebase, a dataset
edited once (a new identifier deriving from the old one through a schema:URL node)."""

from __future__ import annotations

import json

HOST = "https://sekhar.dev.renku.ch"
S = "http://schema.org/"
PROV = "http://www.w3.org/ns/prov#"
FOLDER = "60cc9b66-5252-4442-9e15-706a85c4f4c9"
FIRST = "794d8305-8337-452a-894c-f5154a444b27"
CURRENT = "007ef159-4b78-4913-8db2-e52c3f3c0338"


def _v(value: str) -> list[dict[str, str]]:
    return [{"@value": value}]


def project_metadata() -> str:
    """`.renku/metadata.yml`: the project, its creator and creation date."""
    return json.dumps(
        [
            {
                "@id": f"{HOST}/projects/cramakri/inflation",
                "@type": [f"{S}Project", f"{PROV}Location"],
                f"{S}creator": [{"@id": "mailto:cramakri@ethz.ch"}],
                f"{S}dateCreated": _v("2021-06-01T15:01:56.344679+00:00"),
                f"{S}name": _v("inflation"),
                f"{S}schemaVersion": _v("8"),
            },
            {
                "@id": "mailto:cramakri@ethz.ch",
                "@type": [f"{S}Person", f"{PROV}Person"],
                f"{S}email": _v("cramakri@ethz.ch"),
                f"{S}name": _v("Chandrasekhar Ramakrishnan"),
            },
        ]
    )


def dataset_metadata(identifier: str, *, derived_from: str | None) -> str:
    """`.renku/datasets/<folder>/metadata.yml` at one version of dataset `barro`."""
    dataset: dict[str, object] = {
        "@id": f"{HOST}/datasets/{identifier}",
        "@type": [f"{S}Dataset", f"{PROV}Entity"],
        f"{S}alternateName": _v("barro"),
        f"{S}name": _v("Barro"),
        f"{S}identifier": _v(identifier),
        f"{S}creator": [{"@id": "mailto:cramakri@ethz.ch"}, {"@id": "https://orcid.org/0000-0002-1825-0097"}],
        f"{S}dateCreated": _v("2021-06-04T04:20:24.287936+00:00"),
        f"{S}datePublished": _v("2008-01-01T00:00:00+00:00"),
        f"{S}description": _v("Table 11.1 from Macroeconomics by Robert Barro"),
        f"{S}keywords": _v("CPI"),
        f"{S}url": _v(f"{HOST}/datasets/{identifier}"),
        f"{S}hasPart": [{"@id": f"{HOST}/blob/353f0371/data/barro/barro-data-set.csv"}],
        f"{PROV}atLocation": _v(f".renku/datasets/{FOLDER}"),
    }
    nodes: list[dict[str, object]] = [
        dataset,
        {
            "@id": f"{HOST}/blob/353f0371/data/barro/barro-data-set.csv",
            "@type": [f"{S}DigitalDocument", f"{PROV}Entity"],
            f"{PROV}atLocation": _v("data/barro/barro-data-set.csv"),
            f"{S}name": _v("barro-data-set.csv"),
        },
        {
            "@id": "mailto:cramakri@ethz.ch",
            "@type": [f"{S}Person", f"{PROV}Person"],
            f"{S}email": _v("cramakri@ethz.ch"),
            f"{S}name": _v("Chandrasekhar Ramakrishnan"),
            f"{S}affiliation": _v("ETH Zürich"),
        },
        {
            "@id": "https://orcid.org/0000-0002-1825-0097",
            "@type": [f"{S}Person", f"{PROV}Person"],
            f"{S}name": _v("Josiah Carberry"),
        },
    ]
    if derived_from:
        url_node = f"{HOST}/urls/%2F%2Fsekhar.dev.renku.ch%2Fdatasets%2F{derived_from}"
        dataset[f"{PROV}wasDerivedFrom"] = [{"@id": url_node}]
        nodes.append(
            {"@id": url_node, "@type": [f"{S}URL"], f"{S}url": [{"@id": f"{HOST}/datasets/{derived_from}"}]}
        )
    return json.dumps(nodes)


def legacy_commits() -> list[dict[str, str | bytes | None]]:
    """The project's history: the dataset made, then edited (a new version)."""
    path = f".renku/datasets/{FOLDER}/metadata.yml"
    return [
        {".renku/metadata.yml": project_metadata(), path: dataset_metadata(FIRST, derived_from=None)},
        {path: dataset_metadata(CURRENT, derived_from=FIRST)},
    ]


def dvc_commits() -> list[dict[str, str | bytes | None]]:
    """A one-stage DVC pipeline (`dvc repro` of `clean`): its lineage is one run."""
    lock = (
        "schema: '2.0'\nstages:\n  clean:\n    cmd: python clean.py data/raw.csv data/clean.csv\n"
        "    deps:\n    - path: data/raw.csv\n      md5: 0b8a1c3d5e7f9a1b3c5d7e9f1a3b5c7d\n      size: 10\n"
        "    outs:\n    - path: data/clean.csv\n      md5: 1c9b2d4e6f8a0b2c4d6e8f0a2b4c6d8e\n      size: 8\n"
    )
    stages = "stages:\n  clean:\n    cmd: python clean.py data/raw.csv data/clean.csv\n    deps:\n    - data/raw.csv\n    outs:\n    - data/clean.csv\n"
    return [
        {"data/raw.csv": "a,b\n1,2\n", "clean.py": "print('clean')\n"},
        {"dvc.yaml": stages, "dvc.lock": lock, "data/clean.csv": "a\n1\n"},
    ]


def imported_commits() -> list[dict[str, str | bytes | None]]:
    """A Renku 1.x project whose dataset was imported from Zenodo (`renku dataset import`):
    published, the same as a DOI, made by a person known by ORCID and one by e-mail."""
    from tests.fixtures.renku import person, renku_object, url, when

    dataset = renku_object(
        "dataset.Dataset",
        id="/datasets/ccc333ddd444",
        identifier="ccc333ddd444",
        initial_identifier="ccc333ddd444",
        slug="zenodo-rain",
        name="Zenodo rain",
        date_created=when("2024-02-01T10:00:00+00:00"),
        date_published=when("2019-05-04T00:00:00+00:00"),
        same_as=url("https://doi.org/10.5281/zenodo.3233"),
        creators=[
            person("https://orcid.org/0000-0002-1825-0097", "Josiah Carberry", None, "Brown University"),
            person("mailto:ada@example.org", "Ada Lovelace", "ada@example.org", "Analytical Engines"),
        ],
        dataset_files=[],
    )
    project = renku_object(
        "project.Project",
        id="/projects/g/imported",
        name="imported",
        description="Rain from Zenodo",
        keywords=["rain"],
        version="10",
        creator=person("mailto:ada@example.org", "Ada Lovelace", "ada@example.org", "Analytical Engines"),
    )
    return [dict([project]), dict([dataset])]
