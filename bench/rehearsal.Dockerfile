# The rehearsal's Locust image (projects/rehearsal runs it as master and workers on Fargate): Locust's own image,
# the version the bench extra pins, with the shopper. Build from bench/ and push to an ECR repository of the account:
#   docker build -f rehearsal.Dockerfile -t <account>.dkr.ecr.us-east-1.amazonaws.com/<repo>:<tag> .
FROM locustio/locust:2.47.0
COPY rehearsal_locustfile.py /home/locust/rehearsal_locustfile.py
