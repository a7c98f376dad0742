//! Tests of the S3 jobs against a moto server.
