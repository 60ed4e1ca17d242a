"""Edge layer (owner: marketing/CDN team): CloudFront, the static site bucket and Lambda@Edge."""
