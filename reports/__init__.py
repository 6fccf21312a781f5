"""roamcert reports: run summary, Allure enrichment, timelines, certificate, release gate."""
