"""What the tests share: real servers and their clients, seeding, fixtures' building blocks.

Test modules and conftest.py files import from here, never from each other: `from
support.servers import start_mlflow`. pytest puts tests/ on sys.path (tests/ is not a package,
and the default import mode prepends the root of each test file's package); benchmarks/ puts it
there itself. Modules of this package import each other relatively.
"""
