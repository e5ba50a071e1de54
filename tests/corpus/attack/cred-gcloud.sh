# SPDX-License-Identifier: MIT
# technique: python reads gcloud's application default credentials
# level: high
# quick: no
t0
python3 -c "import json,os; json.load(open(os.path.expanduser('~/.config/gcloud/application_default_credentials.json')))"
